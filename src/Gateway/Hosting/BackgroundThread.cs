using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Gateway.Hosting;

/// <summary>
/// One dedicated thread for background work whose bursts must not delay requests: the ledger's batch commits (2–7 ms of
/// synchronous SQLite work every flush) held a thread-pool worker, and on a busy core the request that arrived meanwhile
/// waited for the whole commit, because the kernel lets the running thread finish its slice (docs/benchmarks.md, "The
/// tail at concurrency 1"). Work started with <see cref="Run"/> stays on this thread across its <c>await</c>s (it is the
/// current <see cref="TaskScheduler"/> there); library continuations that ask for the thread pool still get it.
/// <para>While <see cref="Idle"/> (Linux), the thread runs under <c>SCHED_IDLE</c>, which needs no privilege: a normal
/// thread that wakes on its core preempts it at once. A thread that only gets what others leave can starve while the
/// cores are saturated (a local model generating), so its owner sets <see cref="Idle"/> back to false when its work is
/// overdue; any thread may flip it.</para>
/// </summary>
public sealed class BackgroundThread : TaskScheduler, IDisposable
{
    private const int SchedOther = 0;
    private const int SchedIdle = 5;

    private readonly BlockingCollection<Task> _queue = [];
    private readonly Thread _thread;
    private readonly TaskCompletionSource<int> _tid = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _policy = new();
    private bool _idle;
    private bool _applied;

    public BackgroundThread(string name, bool idle)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
        Idle = idle;
    }

    /// <summary>
    /// Whether the thread yields to every other thread (Linux <c>SCHED_IDLE</c>; elsewhere
    /// <see cref="ThreadPriority.Lowest"/>). Setting it is a system call only when the value changes.
    /// </summary>
    public bool Idle
    {
        get => Volatile.Read(ref _idle);
        set
        {
            lock (_policy)
            {
                if (_idle == value && _applied)
                {
                    return;
                }

                _applied = Apply(value);
                _idle = value && _applied;
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> on this thread, continuations included; the task completes with it.</summary>
    public Task Run(Func<Task> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    /// <inheritdoc cref="Run(Func{Task})"/>
    public Task<T> Run<T>(Func<Task<T>> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    public void Dispose() => _queue.CompleteAdding();

    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task) => _queue.Add(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Thread.CurrentThread == _thread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    private void Loop()
    {
        _tid.TrySetResult(OperatingSystem.IsLinux() ? TryGetTid() : 0);
        foreach (var task in _queue.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }

    private bool Apply(bool idle)
    {
        if (!OperatingSystem.IsLinux())
        {
            _thread.Priority = idle ? ThreadPriority.Lowest : ThreadPriority.Normal;
            return true;
        }

        // On Linux a thread is a task: sched_setscheduler(tid) changes this thread alone, from whichever thread calls it.
        var tid = _tid.Task.GetAwaiter().GetResult(); // set as the thread's first act, microseconds after the constructor
        var parameters = 0; // struct sched_param { int sched_priority; }: 0 for both policies
        return tid > 0 && SetScheduler(tid, idle ? SchedIdle : SchedOther, ref parameters) == 0;
    }

    private static int TryGetTid()
    {
        try
        {
            return GetTid();
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0; // a libc without gettid (musl before 1.2.2): the thread keeps the normal policy
        }
    }

    // DllImport, not LibraryImport: the signatures are blittable, and LibraryImport would need unsafe code enabled.
    [DllImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static extern int SetScheduler(int tid, int policy, ref int parameters);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();
}
