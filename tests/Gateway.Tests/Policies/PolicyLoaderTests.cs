using Gateway.Testing;
using Gateway.Policies;

namespace Gateway.Tests.Policies;

public sealed class PolicyLoaderTests
{
    private static PolicyLoader Loader(params string[] upstreams) => new(new StubPolicyEnvironment(upstreams), TimeProvider.System);

    private const string Valid = """
        default_route: a
        reference_route: a
        routes:
          a:
            kind: hosted
            upstream: openai
            model: gpt-4o
            price: { input_per_mtok: 2.5, output_per_mtok: 10, cached_input_per_mtok: 1.25 }
            models:
              gpt-4o-mini: { input_per_mtok: 0.15, output_per_mtok: 0.6 }
            fallbacks: [b]
          b:
            kind: hosted
            upstream: backup
            model: llama
            price: { input_per_mtok: 0, output_per_mtok: 0 }
        """;

    [Fact]
    public void ShippedPolicy_LoadsWithTheDefaultUpstream()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "policies", PolicyOptions.RoutingFileName);
        var result = Loader("openai").Load(File.ReadAllText(path));

        Assert.Empty(result.Errors);
        Assert.Equal("frontier", result.Policy!.DefaultRoute.Name);
        Assert.Equal("openai", result.Policy.DefaultRoute.Upstream);
    }

    [Theory]
    [InlineData("{\"a\":\"\\udc00\\ud800\"}")]
    [InlineData("a: \"\\ud800\"")]
    [InlineData("a: \"\\U0011FFFF\"")]
    [InlineData("a: \"\\xZZ\"")]
    public void Load_AnUnreadableEscape_IsAnErrorNotAnException(string yaml)
    {
        var result = Loader().Load(yaml);

        Assert.Null(result.Policy);
        Assert.Contains(result.Errors, e => e.StartsWith("line 1", StringComparison.Ordinal) || e.Contains("escape", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_BuildsTheSnapshot()
    {
        var policy = Loader("openai", "backup").Load(Valid).Policy!;

        Assert.Equal(["a", "b"], policy.Routes.Select(r => r.Name));
        Assert.Equal(new RoutePrice(2.5m, 10m, 1.25m), policy.RoutesByName["a"].Price);
        Assert.Same(policy.RoutesByName["a"], policy.RoutesByModel["gpt-4o-mini"]);
        Assert.Same(policy.RoutesByName["b"], policy.RoutesByModel["llama"]);
        Assert.Equal(new RoutePrice(0.15m, 0.6m), policy.RoutesByName["a"].PriceFor("gpt-4o-mini"));
        Assert.Equal(["b"], policy.RoutesByName["a"].Fallbacks);
        Assert.Matches("^[0-9a-f]{12}$", policy.Version);
    }

    [Fact]
    public void Version_DependsOnlyOnTheDocument()
    {
        var loader = Loader("openai", "backup");
        Assert.Equal(loader.Load(Valid).Policy!.Version, loader.Load(Valid).Policy!.Version);
        Assert.NotEqual(loader.Load(Valid).Policy!.Version, loader.Load(Valid + "\n# edited").Policy!.Version);
    }

    [Fact]
    public void Load_ReportsEveryErrorWithItsPath()
    {
        const string yaml = """
            default_route: missing
            reference_route: b
            routes:
              a:
                kind: hosted
                upstream: nowhere
                model: ""
                price: { input_per_mtok: -1 }
                models:
                  cheap: { input_per_mtok: 1, output_per_mtok: -2 }
                fallbacks: [ghost]
              b:
                kind: warp-drive
                model: x
            """;

        var result = Loader("openai").Load(yaml);

        Assert.Null(result.Policy);
        Assert.Contains(result.Errors, e => e.StartsWith("routes.a.upstream: 'nowhere' is not configured", StringComparison.Ordinal));
        Assert.Contains("routes.a.model: is required", result.Errors);
        Assert.Contains("routes.a.price.input_per_mtok: must be >= 0", result.Errors);
        Assert.Contains("routes.a.price.output_per_mtok: is required", result.Errors);
        Assert.Contains("routes.a.models.cheap.output_per_mtok: must be >= 0", result.Errors);
        Assert.Contains("routes.a.fallbacks[0]: unknown route 'ghost'", result.Errors);
        Assert.Contains(result.Errors, e => e.StartsWith("routes.b.kind: 'warp-drive' is not one of", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("routes.b.price: is required", StringComparison.Ordinal));
        Assert.Contains("default_route: unknown route 'missing'", result.Errors);
        Assert.Contains(result.Errors, e => e.StartsWith("reference_route: 'b' must be a hosted route", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_RejectsFallbackCycles()
    {
        const string yaml = """
            default_route: a
            routes:
              a: { kind: hosted, upstream: openai, model: m, price: { input_per_mtok: 1, output_per_mtok: 1 }, fallbacks: [b] }
              b: { kind: hosted, upstream: openai, model: n, price: { input_per_mtok: 1, output_per_mtok: 1 }, fallbacks: [c] }
              c: { kind: hosted, upstream: openai, model: o, price: { input_per_mtok: 1, output_per_mtok: 1 }, fallbacks: [a] }
            """;

        var errors = Loader("openai").Load(yaml).Errors;

        Assert.Equal(["routes.a.fallbacks: cycle a -> b -> c -> a"], errors);
    }

    [Fact]
    public void Load_LocalRouteWithoutItsModel_IsUnavailableNotInvalid()
    {
        const string yaml = """
            default_route: a
            routes:
              a: { kind: hosted, upstream: openai, model: m, price: { input_per_mtok: 1, output_per_mtok: 1 } }
              l: { kind: local, local_model: tiny, model: tiny, price: { input_per_mtok: 0, output_per_mtok: 0 } }
            """;

        var result = Loader("openai").Load(yaml);

        Assert.Empty(result.Errors);
        var local = result.Policy!.RoutesByName["l"];
        Assert.False(local.Available);
        Assert.Contains("local model 'tiny' is not configured", local.UnavailableReason, StringComparison.Ordinal);
        Assert.Contains(result.Warnings!, w => w.StartsWith("routes.l: unavailable until configured", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_UnservableDefaultRoute_IsAnError()
    {
        const string yaml = """
            default_route: l
            routes:
              l: { kind: local, local_model: tiny, model: tiny, price: { input_per_mtok: 0, output_per_mtok: 0 } }
            """;

        Assert.Contains(Loader().Load(yaml).Errors, e => e.StartsWith("default_route: 'l' cannot be served by this gateway", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "the document is empty")]
    [InlineData("routes: [unclosed", "line")]
    [InlineData("routes: {}\ndefault_route: x", "routes: must define at least one route")]
    public void Load_RejectsBrokenDocuments(string yaml, string expected)
    {
        var result = Loader("openai").Load(yaml);
        Assert.Null(result.Policy);
        Assert.Contains(result.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }
}
