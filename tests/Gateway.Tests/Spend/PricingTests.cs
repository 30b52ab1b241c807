using Gateway.Policies;
using Gateway.Spend;

namespace Gateway.Tests.Spend;

public sealed class PricingTests
{
    [Fact]
    public void Cost_ChargesUncachedCachedAndOutputAtTheirRates()
    {
        var price = new RoutePrice(InputPerMTok: 2.50m, OutputPerMTok: 10m, CachedInputPerMTok: 1.25m);
        // 800 × 2.50 + 200 × 1.25 + 100 × 10 = 3250 per million.
        Assert.Equal(0.00325m, Pricing.Cost(price, new Usage(1000, 100, 200)));
    }

    [Fact]
    public void Cost_WithoutCachedPrice_ChargesCachedTokensAsInput()
    {
        Assert.Equal(0.0001m, Pricing.Cost(new RoutePrice(1m, 0m), new Usage(100, 0, 60)));
    }

    [Theory]
    [InlineData(-100, 10, 0, 0.0001)]
    [InlineData(100, -10, 0, 0.00025)]
    [InlineData(100, 0, -50, 0.00025)]
    [InlineData(100, 0, 500, 0.000125)]
    public void Cost_NeverThrows_AndNeverGoesNegative(int prompt, int completion, int cached, double expected)
    {
        var price = new RoutePrice(InputPerMTok: 2.50m, OutputPerMTok: 10m, CachedInputPerMTok: 1.25m);
        Assert.Equal((decimal)expected, Pricing.Cost(price, new Usage(prompt, completion, cached)));
    }

    [Fact]
    public void Cost_IsExactInDecimal()
    {
        var price = new RoutePrice(0.15m, 0.60m);
        var total = Enumerable.Range(0, 1000).Sum(_ => Pricing.Cost(price, new Usage(7, 3)));
        Assert.Equal(0.00285m, total);
    }

    [Fact]
    public void Cost_ClampsCachedTokensReportedAbovePromptTokens()
    {
        Assert.Equal(0.00001m, Pricing.Cost(new RoutePrice(1m, 1m, 0.1m), new Usage(100, 0, 500)));
    }
}
