using Gateway.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Hosting;

public sealed class LargeBodyReclaimerTests
{
    private static LargeBodyReclaimer Create(bool enabled = true, TimeProvider? time = null) => new(
        Options.Create(new RuntimeOptions { LargeBodyBytes = 1000, QuietPeriod = TimeSpan.FromMilliseconds(1000), ReclaimAfterLargeBodies = enabled }),
        time ?? TimeProvider.System, NullLogger<LargeBodyReclaimer>.Instance);

    /// <summary>Until <paramref name="condition"/> holds (the reclaimer's loop runs on its own thread), up to 5 s of real time.</summary>
    private static async Task WaitFor(Func<bool> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition() && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }
    }

    /// <summary>Gives the reclaimer's loop real time to act on what the fake clock says, so "nothing happened" means it.</summary>
    private static Task Settle() => Task.Delay(100);

    [Fact]
    public async Task ABurstOfLargeBodies_IsFollowedByOneReclaim_OnceItIsQuiet()
    {
        // The clock is the test's: a loaded machine cannot stretch the gaps in the burst past the quiet period.
        var time = new FakeTimeProvider();
        using var reclaimer = Create(time: time);
        await reclaimer.StartAsync(CancellationToken.None);

        // Large bodies 100 ms apart keep moving the deadline: nothing while the burst lasts (1.5 s, longer than the quiet period).
        for (var i = 0; i < 15; i++)
        {
            reclaimer.Note(5000);
            await Settle();
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        await Settle();
        Assert.Equal(0, reclaimer.Reclaims);
        time.Advance(TimeSpan.FromMilliseconds(900));
        await WaitFor(() => reclaimer.Reclaims > 0);
        Assert.Equal(1, reclaimer.Reclaims);

        // Once done, it waits for the next large body.
        time.Advance(TimeSpan.FromMilliseconds(1500));
        await Settle();
        Assert.Equal(1, reclaimer.Reclaims);
        reclaimer.Note(5000);
        await Settle();
        time.Advance(TimeSpan.FromMilliseconds(1000));
        await WaitFor(() => reclaimer.Reclaims > 1);
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
