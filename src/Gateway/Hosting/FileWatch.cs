using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Gateway.Hosting;

/// <summary>
/// Calls <paramref name="reload"/> once a changed file has been quiet (no further change events) for
/// <see cref="QuietPeriod"/>. A write in progress keeps raising events, so a file that is truncated and
/// rewritten in pieces (<c>cp</c>, <c>cat &gt;</c>, many editors) is read only after its last piece; a
/// change during the call queues another. Disposing stops watching and cancels a pending call.
/// </summary>
internal sealed class FileWatch : IDisposable
{
    /// <summary>How long a file must go without change events before it is read.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(1);

    private readonly PhysicalFileProvider _files;
    private readonly IDisposable _registration;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Func<CancellationToken, Task> _reload;
    private readonly TimeProvider _timeProvider;
    private int _queued;
    private long _lastChange;

    public FileWatch(string path, Func<CancellationToken, Task> reload, TimeProvider timeProvider)
    {
        _reload = reload;
        _timeProvider = timeProvider;
        _files = new PhysicalFileProvider(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var file = Path.GetFileName(path);
        _registration = ChangeToken.OnChange(() => _files.Watch(file), () =>
        {
            Volatile.Write(ref _lastChange, _timeProvider.GetTimestamp());
            _ = ReloadSoonAsync();
        });
    }

    private async Task ReloadSoonAsync()
    {
        if (Interlocked.Exchange(ref _queued, 1) == 1)
        {
            return;
        }

        try
        {
            var wait = QuietPeriod;
            while (true)
            {
                await Task.Delay(wait, _timeProvider, _stopping.Token);
                var quiet = _timeProvider.GetElapsedTime(Volatile.Read(ref _lastChange));
                if (quiet >= QuietPeriod)
                {
                    break;
                }

                wait = QuietPeriod - quiet;
            }

            Volatile.Write(ref _queued, 0);
            await _reload(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _registration.Dispose();
        _files.Dispose();
        _stopping.Dispose();
    }
}
