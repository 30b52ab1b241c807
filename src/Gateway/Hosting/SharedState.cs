using StackExchange.Redis;

namespace Gateway.Hosting;

/// <summary>The <c>Redis</c> section: where replicas keep the counters that must hold across them.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string (<c>localhost:6379</c>). Empty (the default): counters are per process.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// When Redis cannot be reached: true (the default) falls back to this replica's own counters (limits then hold per
    /// replica, as without Redis); false refuses the request with 503 until Redis is back. Either way: a log line and
    /// <c>gateway_shared_state_errors_total</c>, never a 500.
    /// </summary>
    public bool FailOpen { get; set; } = true;

    /// <summary>Longest a counter operation may take before it counts as Redis being unreachable (default 250 ms).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>
/// The Redis connection shared by budget reservations and rate limits, when <c>Redis:ConnectionString</c> is set.
/// Connects lazily and in the background (<c>abortConnect=false</c>): a gateway whose Redis is down still starts.
/// </summary>
public sealed class SharedState : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer>? _connection;

    public SharedState(Microsoft.Extensions.Options.IOptions<RedisOptions> options, Telemetry.GatewayMetrics metrics, ILogger<SharedState> logger)
    {
        Options = options.Value;
        Metrics = metrics;
        Logger = logger;
        if (Options.ConnectionString is { Length: > 0 } configuration)
        {
            var parsed = ConfigurationOptions.Parse(configuration);
            parsed.AbortOnConnectFail = false;
            parsed.SyncTimeout = parsed.AsyncTimeout = (int)Options.Timeout.TotalMilliseconds;
            parsed.ConnectTimeout = Math.Max(parsed.ConnectTimeout, 1000);
            // Replies are completed on the .NET thread pool rather than on the library's own I/O threads: one thread
            // hop less per round trip on a small (2-core) machine (measured in docs/benchmarks.md).
            parsed.SocketManager = SocketManager.ThreadPool;
            _connection = new Lazy<ConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(parsed));
        }
    }

    public RedisOptions Options { get; }

    internal Telemetry.GatewayMetrics Metrics { get; }

    internal ILogger Logger { get; }

    /// <summary>Whether counters are shared (Redis configured).</summary>
    public bool Enabled => _connection is not null;

    public IDatabase Database => _connection!.Value.GetDatabase();

    /// <summary>
    /// Runs <paramref name="shared"/> on Redis; when Redis fails, records it and runs <paramref name="local"/> (fail open) or
    /// answers 503 (fail closed).
    /// </summary>
    public async ValueTask<T> RunAsync<T>(string what, Func<IDatabase, Task<T>> shared, Func<T> local)
    {
        try
        {
            return await shared(Database);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Metrics.SharedStateError(what);
            Telemetry.Log.SharedStateFailed(Logger, what, ex.GetType().Name, Options.FailOpen);
            return Options.FailOpen ? local() : throw OpenAi.OpenAiErrors.SharedStateUnavailable();
        }
    }

    /// <summary>Fire-and-forget on Redis (a release, a recorded cost): a failure is counted and logged, never thrown.</summary>
    public void Send(string what, Func<IDatabase, Task> shared)
    {
        try
        {
            shared(Database).ContinueWith(t =>
            {
                Metrics.SharedStateError(what);
                Telemetry.Log.SharedStateFailed(Logger, what, t.Exception!.InnerException!.GetType().Name, Options.FailOpen);
            }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Metrics.SharedStateError(what);
            Telemetry.Log.SharedStateFailed(Logger, what, ex.GetType().Name, Options.FailOpen);
        }
    }

    public void Dispose()
    {
        if (_connection is { IsValueCreated: true })
        {
            _connection.Value.Dispose();
        }
    }
}
