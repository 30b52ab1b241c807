namespace Gateway.IntegrationTests.Infrastructure;

/// <summary>Per-test pair of a fake upstream and a gateway forwarding to it.</summary>
public abstract class GatewayWithUpstream : IAsyncLifetime
{
    protected FakeOpenAiUpstream Upstream { get; private set; } = null!;
    protected GatewayHost Gateway { get; private set; } = null!;

    /// <summary>Extra gateway settings for the test class.</summary>
    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task InitializeAsync()
    {
        Upstream = await FakeOpenAiUpstream.StartAsync();
        Gateway = await GatewayHost.StartAsync(Upstream.BaseUrl, settings: Settings);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
