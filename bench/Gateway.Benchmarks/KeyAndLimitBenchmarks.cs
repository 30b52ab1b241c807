using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Gateway.Auth;
using Gateway.Hosting;
using Gateway.Policies;
using Gateway.Spend;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Benchmarks;

/// <summary>
/// What keys, rate limits and budget reservations add to a request (issue 12), against today's baseline, a static key
/// looked up by its SHA-256: a runtime key (HMAC, in-memory table), a key with RPM and TPM limits in this process, the
/// same limits in Redis, and a budget lease in Redis. Redis is a real redis-server on loopback, started here.
/// </summary>
[MemoryDiagnoser]
public class KeyAndLimitBenchmarks
{
    private const string StaticSecret = "sk-static-benchmark-key-0001";
    private ClientKeyStore _keys = null!;
    private string _runtimeSecret = null!;
    private RateLimiter _localLimiter = null!;
    private RateLimiter _redisLimiter = null!;
    private BudgetGate _redisBudgets = null!;
    private RoutingPolicy _policy = null!;
    private Process? _redis;
    private string _folder = null!;
    private int _key;

    // 64 keys in turn: the buckets never run dry, and no identity is allocated per call.
    private static readonly ClientIdentity[] Limited = [.. Enumerable.Range(0, 64)
        .Select(i => new ClientIdentity($"k{i}", "team", RpmLimit: 1_000_000, TpmLimit: 10_000_000_000))];

    [GlobalSetup]
    public async Task Setup()
    {
        _folder = Directory.CreateTempSubdirectory("bench-keys-").FullName;
        var auth = Options.Create(new AuthOptions { Keys = [new ClientKeyOptions { Key = StaticSecret, Team = "team", Name = "static" }] });
        var database = new GatewayDatabase(Options.Create(new LedgerOptions { ConnectionString = $"Data Source={Path.Combine(_folder, "gateway.db")}" }));
        var store = new VirtualKeyStore(database, auth, TimeProvider.System);
        await store.LoadAsync(CancellationToken.None);
        _runtimeSecret = (await store.CreateAsync(new KeyRequest { Name = "runtime", Team = "team" }, "bench", CancellationToken.None)).Secret;
        _keys = new ClientKeyStore(auth, store);

        var port = FreePort();
        _redis = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
        })!;
        await Task.Delay(300);
        var metrics = new Telemetry.GatewayMetrics();
        var shared = new SharedState(Options.Create(new RedisOptions { ConnectionString = $"127.0.0.1:{port}", Timeout = TimeSpan.FromSeconds(2) }),
            metrics, NullLogger<SharedState>.Instance);
        _localLimiter = new RateLimiter(TimeProvider.System);
        _redisLimiter = new RateLimiter(TimeProvider.System, shared);
        _redisBudgets = new BudgetGate(new BudgetTracker(TimeProvider.System), shared, TimeProvider.System);
        _policy = new PolicyLoader(new PolicyDecisionBenchmarks.Environment(), TimeProvider.System).Load("""
            default_route: r0
            routes:
              r0: { kind: hosted, upstream: openai, model: m0, price: { input_per_mtok: 2.5, output_per_mtok: 10 } }
            budgets:
              team: { daily_usd: 1000000000, on_exceed: reject }
            """).Policy!;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _redis?.Kill();
        _redis?.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Benchmark(Baseline = true)]
    public ClientIdentity? StaticKey() => _keys.Find(StaticSecret);

    [Benchmark]
    public ClientIdentity? RuntimeKey() => _keys.Find(_runtimeSecret);

    [Benchmark]
    public void RateLimitsInProcess()
    {
        var lease = _localLimiter.Acquire(Limited[_key++ & 63], 500)!;
        lease.Settle(400);
    }

    [Benchmark]
    public async Task RateLimitsInRedis()
    {
        var lease = (await _redisLimiter.AcquireAsync(Limited[_key++ & 63], 500))!;
        lease.Settle(400);
    }

    [Benchmark]
    public async Task BudgetLeaseInRedis()
    {
        using var lease = await _redisBudgets.LeaseAsync(_policy, "team", 0.001m);
    }
}
