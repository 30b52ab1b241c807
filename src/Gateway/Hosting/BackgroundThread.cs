using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Gateway.Hosting;

/// <summary>
/// One dedicated thread, scheduled by the operating system after the request threads, for background work whose bursts
/// must not delay requests: the ledger's batch commits (a few milliseconds of SQLite work every flush) held a thread-pool
/// worker, and on a busy core the request that arrived meanwhile waited for the whole commit (docs/benchmarks.md, "The
/// tail at concurrency 1"). Work started with <see cref="Run"/> stays on this thread across its <c>await</c>s (it is the
/// current <see cref="TaskScheduler"/> there); library continuations that ask for the thread pool still get it.
/// <para>On Linux the thread runs under <c>SCHED_IDLE</c> (allowed without privileges): a normal thread that wakes on
/// its core preempts it at once, where a raised nice value alone does not (the kernel lets the running thread finish its
/// slice, ~3 ms, which is the delay this removes). It still gets the core whenever request threads leave it, and a
/// little even when they do not. Elsewhere it runs at <see cref="ThreadPriority.BelowNormal"/>.</para>
/// </summary>
public sealed class BackgroundThread : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _queue = [];
    private readonly Thread _thread;

    public BackgroundThread(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Whether lowering the thread's priority took effect (false where the platform refused it).</summary>
    public bool Lowered { get; private set; }

    /// <summary>Runs <paramref name="work"/> on this thread, continuations included; the task completes with it.</summary>
    public Task Run(Func<Task> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    /// <inheritdoc cref="Run(Func{Task})"/>
    public Task<T> Run<T>(Func<Task<T>> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    public void Dispose() => _queue.CompleteAdding();

    protected override void QueueTask(Task task) => _queue.Add(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Thread.CurrentThread == _thread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    public override int MaximumConcurrencyLevel => 1;

    private void Loop()
    {
        Lowered = Lower();
        foreach (var task in _queue.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }

    private static bool Lower()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                // On Linux a thread is a task: sched_setscheduler(tid) changes this thread alone.
                var parameters = 0;
                return SetScheduler(GetTid(), SchedIdle, ref parameters) == 0;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                return false; // a libc without gettid (musl before 1.2.2): the thread keeps the normal priority
            }
        }

        Thread.CurrentThread.Priority = ThreadPriority.BelowNormal;
        return true;
    }

    private const int SchedIdle = 5;

    // DllImport, not LibraryImport: the signatures are blittable, and LibraryImport would need unsafe code enabled.
    // struct sched_param { int sched_priority; } (0 for SCHED_IDLE).
    [DllImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static extern int SetScheduler(int tid, int policy, ref int parameters);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();
}
