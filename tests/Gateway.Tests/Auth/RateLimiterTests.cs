using Gateway.Auth;
using Gateway.OpenAi;

namespace Gateway.Tests.Auth;

public sealed class RateLimiterTests
{
    /// <summary>A clock the test moves.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public long Ticks { get; set; } = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;

        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    private static ClientIdentity Key(int? rpm = null, long? tpm = null) => new("app", "team", RpmLimit: rpm, TpmLimit: tpm);

    private static string Header(RateLease lease, string name) => lease.Headers.Single(h => h.Key == name).Value;

    [Fact]
    public void NoLimits_TakeNothing() => Assert.Null(new RateLimiter(new ManualTime()).Acquire(Key(), 1000));

    [Fact]
    public void Requests_BurstToTheLimit_ThenPassAsTheAllowanceReturns()
    {
        var time = new ManualTime();
        var limiter = new RateLimiter(time);
        for (var i = 0; i < 60; i++)
        {
            var lease = limiter.Acquire(Key(rpm: 60), 0)!;
            Assert.Equal((59 - i).ToString(System.Globalization.CultureInfo.InvariantCulture), Header(lease, "x-ratelimit-remaining-requests"));
        }

        var refused = Assert.Throws<OpenAiException>(() => limiter.Acquire(Key(rpm: 60), 0));
        Assert.Equal(429, refused.Status);
        Assert.Equal("rate_limit_exceeded", refused.Code);
        Assert.Equal("requests", refused.Type);
        Assert.Equal(1, refused.RetryAfterSeconds);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(limiter.Acquire(Key(rpm: 60), 0));
        Assert.Throws<OpenAiException>(() => limiter.Acquire(Key(rpm: 60), 0));
    }

    [Fact]
    public void Tokens_ReserveTheEstimate_AndSettleToWhatWasUsed()
    {
        var limiter = new RateLimiter(new ManualTime());

        var first = limiter.Acquire(Key(tpm: 1000), 800)!;
        Assert.Equal("200", Header(first, "x-ratelimit-remaining-tokens"));
        Assert.Equal("1000", Header(first, "x-ratelimit-limit-tokens"));
        var refused = Assert.Throws<OpenAiException>(() => limiter.Acquire(Key(tpm: 1000), 800));
        Assert.Equal("tokens", refused.Type);

        first.Settle(100);
        first.Settle(900); // once only
        var second = limiter.Acquire(Key(tpm: 1000), 800)!;
        Assert.Equal("100", Header(second, "x-ratelimit-remaining-tokens"));
    }

    [Fact]
    public void ATokensRefusal_GivesTheRequestBack()
    {
        var limiter = new RateLimiter(new ManualTime());
        Assert.NotNull(limiter.Acquire(Key(rpm: 2, tpm: 100), 100));

        Assert.Throws<OpenAiException>(() => limiter.Acquire(Key(rpm: 2, tpm: 100), 50));

        // The refused request did not use the second request of the minute.
        var lease = Assert.Throws<OpenAiException>(() => limiter.Acquire(Key(rpm: 2, tpm: 100), 1));
        Assert.Equal("tokens", lease.Type);
    }

    [Fact]
    public void ATeamLimit_IsSharedByTheTeamsKeys_AndTheHeadersShowTheTighterLimit()
    {
        var limiter = new RateLimiter(new ManualTime());
        var team = new Gateway.Policies.TeamRateLimit("team", Rpm: 3, Tpm: null);
        var first = new ClientIdentity("first", "team", RpmLimit: 100);
        var second = new ClientIdentity("second", "team");

        var lease = limiter.Acquire(first, 0, team)!;
        Assert.Equal("3", Header(lease, "x-ratelimit-limit-requests"));
        Assert.Equal("2", Header(lease, "x-ratelimit-remaining-requests"));
        Assert.NotNull(limiter.Acquire(second, 0, team));
        Assert.NotNull(limiter.Acquire(second, 0, team));

        var refused = Assert.Throws<OpenAiException>(() => limiter.Acquire(first, 0, team));
        Assert.Contains("team 'team'", refused.Message, StringComparison.Ordinal);
        // The refusal took nothing from the key's own allowance: 99 left of 100, not 98.
        var other = limiter.Acquire(first, 0)!;
        Assert.Equal("98", Header(other, "x-ratelimit-remaining-requests"));
    }

    [Theory]
    [InlineData(0.12, "120ms")]
    [InlineData(6, "6s")]
    [InlineData(1.5, "1.5s")]
    [InlineData(60, "1m0s")]
    [InlineData(125, "2m5s")]
    public void ResetDurations_AreWrittenAsOpenAiWritesThem(double seconds, string expected) =>
        Assert.Equal(expected, RateLease.Duration(TimeSpan.FromSeconds(seconds)));
}
