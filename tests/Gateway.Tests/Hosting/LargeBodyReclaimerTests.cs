using Gateway.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

public sealed class LargeBodyReclaimerTests
{
    private static LargeBodyReclaimer Create(bool enabled = true) => new(
        Options.Create(new RuntimeOptions { LargeBodyBytes = 1000, QuietPeriod = TimeSpan.FromMilliseconds(1000), ReclaimAfterLargeBodies = enabled }),
        TimeProvider.System, NullLogger<LargeBodyReclaimer>.Instance);

    private static async Task WaitFor(Func<bool> condition, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (!condition() && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task ABurstOfLargeBodies_IsFollowedByOneReclaim_OnceItIsQuiet()
    {
        using var reclaimer = Create();
        await reclaimer.StartAsync(CancellationToken.None);

        // Large bodies 100 ms apart keep moving the deadline: nothing while the burst lasts.
        for (var i = 0; i < 6; i++)
        {
            reclaimer.Note(5000);
            await Task.Delay(100);
        }

        Assert.Equal(0, reclaimer.Reclaims);
        await WaitFor(() => reclaimer.Reclaims > 0, TimeSpan.FromSeconds(5));
        Assert.Equal(1, reclaimer.Reclaims);

        // Once done, it waits for the next large body.
        await Task.Delay(1500);
        Assert.Equal(1, reclaimer.Reclaims);
        reclaimer.Note(5000);
        await WaitFor(() => reclaimer.Reclaims > 1, TimeSpan.FromSeconds(5));
        Assert.Equal(2, reclaimer.Reclaims);
        await reclaimer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task SmallBodies_OrTheSettingOff_NeverReclaim()
    {
        using var small = Create();
        using var off = Create(enabled: false);
        await small.StartAsync(CancellationToken.None);
        await off.StartAsync(CancellationToken.None);
        small.Note(999);
        off.Note(1_000_000);
        await Task.Delay(1500);
        Assert.Equal(0, small.Reclaims);
        Assert.Equal(0, off.Reclaims);
        await small.StopAsync(CancellationToken.None);
        await off.StopAsync(CancellationToken.None);
    }
}
