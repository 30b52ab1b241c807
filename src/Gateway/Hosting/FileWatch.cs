using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Gateway.Hosting;

/// <summary>
/// Calls <paramref name="reload"/> after a file changes. One save (or a replace-by-rename) raises
/// several events: they share one call after the debounce; a change during the call queues another.
/// Disposing stops watching and cancels a pending call.
/// </summary>
internal sealed class FileWatch : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(250);

    private readonly PhysicalFileProvider _files;
    private readonly IDisposable _registration;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Func<CancellationToken, Task> _reload;
    private readonly TimeProvider _timeProvider;
    private int _queued;

    public FileWatch(string path, Func<CancellationToken, Task> reload, TimeProvider timeProvider)
    {
        _reload = reload;
        _timeProvider = timeProvider;
        _files = new PhysicalFileProvider(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var file = Path.GetFileName(path);
        _registration = ChangeToken.OnChange(() => _files.Watch(file), () => _ = ReloadSoonAsync());
    }

    private async Task ReloadSoonAsync()
    {
        if (Interlocked.Exchange(ref _queued, 1) == 1)
        {
            return;
        }

        try
        {
            await Task.Delay(Debounce, _timeProvider, _stopping.Token);
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
