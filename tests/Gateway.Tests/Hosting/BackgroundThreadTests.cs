using Gateway.Hosting;

namespace Gateway.Tests.Hosting;

public class BackgroundThreadTests
{
    [Fact]
    public async Task Work_StaysOnTheDedicatedThread_AcrossAwaits()
    {
        using var background = new BackgroundThread("test background", idle: false);
        var seen = new List<(string? Name, bool Pool)>();

        await background.Run(async () =>
        {
            seen.Add((Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread));
            await Task.Yield();
            seen.Add((Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread));
            await Task.Delay(20);
            seen.Add((Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread));
        });

        Assert.Equal(3, seen.Count);
        Assert.All(seen, s => Assert.Equal(("test background", false), s));
    }

    [Fact]
    public async Task AFailure_CompletesTheTaskWithIt()
    {
        using var background = new BackgroundThread("test background", idle: false);

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => background.Run(async () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("store down");
        }));

        Assert.Equal("store down", thrown.Message);
    }

    [SkippableFact]
    public async Task OnLinux_AnIdleThreadRunsUnderSchedIdle_AndAnyThreadCanGiveItTheNormalPolicyBack()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "SCHED_IDLE is Linux's");
        using var background = new BackgroundThread("test background", idle: true);
        static string Policy() => File.ReadLines("/proc/thread-self/sched").First(line => line.StartsWith("policy", StringComparison.Ordinal));

        var idle = await background.Run(() => Task.FromResult(Policy()));
        var pool = await Task.Run(Policy);
        background.Idle = false; // from a thread-pool thread, as the ledger's watch does
        var promoted = await background.Run(() => Task.FromResult(Policy()));
        background.Idle = true;
        var demoted = await background.Run(() => Task.FromResult(Policy()));

        Assert.EndsWith(" 5", idle);     // SCHED_IDLE
        Assert.EndsWith(" 0", pool);     // SCHED_OTHER: the thread pool is untouched
        Assert.EndsWith(" 0", promoted);
        Assert.EndsWith(" 5", demoted);
        Assert.True(background.Idle);
    }
}
