using Gateway.Spend;

namespace Gateway.Tests.Spend;

public sealed class OutputTokenStatsTests
{
    [Fact]
    public void Typical_IsUnknownUntilEnoughAnswers_ThenTheirNinetiethPercentile()
    {
        var stats = new OutputTokenStats();
        for (var i = 1; i < OutputTokenStats.MinimumSamples; i++)
        {
            stats.Observe(i * 10);
        }

        Assert.Null(stats.Typical);

        stats.Observe(320); // 32 answers: 10, 20, …, 310, 320
        Assert.Equal(290, stats.Typical); // the 29th of 32 (ceil(0.9 × 32))
    }

    [Fact]
    public void Typical_FollowsRecentTraffic_AndIgnoresEmptyAnswers()
    {
        var stats = new OutputTokenStats();
        for (var i = 0; i < OutputTokenStats.Window; i++)
        {
            stats.Observe(1000);
        }

        for (var i = 0; i < OutputTokenStats.Window; i++)
        {
            stats.Observe(40);
            stats.Observe(0);
        }

        Assert.Equal(40, stats.Typical);
    }
}
