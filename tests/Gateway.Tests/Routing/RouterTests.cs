using Gateway.Testing;
using System.Text;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Routing;
using Gateway.Spend;
using Gateway.Tests.Policies;

namespace Gateway.Tests.Routing;

public sealed class RouterTests
{
    private static readonly RoutingPolicy Policy = new PolicyLoader(new StubPolicyEnvironment(["openai"]), TimeProvider.System).Load("""
        default_route: frontier
        reference_route: frontier
        routes:
          frontier:
            kind: hosted
            upstream: openai
            model: gpt-4o
            price: { input_per_mtok: 2.5, output_per_mtok: 10 }
            models:
              gpt-4o-mini: { input_per_mtok: 0.15, output_per_mtok: 0.6 }
              text-embedding-3-small: { input_per_mtok: 0.02, output_per_mtok: 0 }
            fallbacks: [cheap]
          cheap:
            kind: hosted
            upstream: openai
            model: gpt-4o-mini
            price: { input_per_mtok: 0.15, output_per_mtok: 0.6 }
        """).Policy!;


    private static RouteDecision Decide(string model, OpenAiOperation operation = OpenAiOperation.ChatCompletions)
    {
        var body = operation == OpenAiOperation.Embeddings
            ? $$"""{"model":"{{model}}","input":"x"}"""
            : $$"""{"model":"{{model}}","messages":[{"role":"user","content":"x"}]}""";
        using var request = OpenAiRequest.Parse(operation, Encoding.UTF8.GetBytes(body));
        return new Router().Decide(Policy, request, classification: null, new RequestFacts("research", "research-ci"));
    }

    [Fact]
    public void Auto_TakesTheDefaultRouteWithItsFallbacks()
    {
        var decision = Decide("auto");
        Assert.Equal("frontier", decision.Route.Name);
        Assert.Equal("gpt-4o", decision.TargetModel);
        Assert.Equal(["cheap"], decision.Fallbacks.Select(r => r.Name));
        Assert.Contains("default route 'frontier'", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RouteName_PinsThatRoute()
    {
        var decision = Decide("cheap");
        Assert.Equal("cheap", decision.Route.Name);
        Assert.Equal("gpt-4o-mini", decision.TargetModel);
        Assert.Empty(decision.Fallbacks);
    }

    [Fact]
    public void ConcreteModel_PinsTheFirstRouteServingIt()
    {
        var decision = Decide("gpt-4o-mini");
        Assert.Equal("frontier", decision.Route.Name);
        Assert.Equal("gpt-4o-mini", decision.TargetModel);
    }

    [Fact]
    public void UnknownModel_Is404()
    {
        var error = Assert.Throws<OpenAiException>(() => Decide("gpt-99"));
        Assert.Equal(404, error.Status);
        Assert.Equal("model_not_found", error.Code);
    }

    [Fact]
    public void Embeddings_NeedAConcreteModel()
    {
        Assert.Equal("text-embedding-3-small", Decide("text-embedding-3-small", OpenAiOperation.Embeddings).TargetModel);
        var auto = Assert.Throws<OpenAiException>(() => Decide("auto", OpenAiOperation.Embeddings));
        Assert.Equal((400, "model_required"), (auto.Status, auto.Code));
        Assert.Contains("text-embedding-3-small", auto.Message, StringComparison.Ordinal);
        Assert.Equal(404, Assert.Throws<OpenAiException>(() => Decide("frontier", OpenAiOperation.Embeddings)).Status);
    }
    private static RouteDecision FollowUp(string model, ResponseOrigin origin)
    {
        using var request = OpenAiRequest.Parse(OpenAiOperation.Responses,
            Encoding.UTF8.GetBytes($$"""{"model":"{{model}}","input":"and then?","previous_response_id":"resp_1"}"""));
        return new Router().Decide(Policy, request, classification: null, new RequestFacts("research", "research-ci", FollowUpOf: origin));
    }

    [Fact]
    public void FollowUp_GoesToTheRouteThatCreatedTheResponse()
    {
        var decision = FollowUp("auto", new ResponseOrigin("cheap", "openai", "research"));
        Assert.Equal("cheap", decision.Route.Name);
        Assert.Equal(DecisionVia.FollowUp, decision.Via);
    }

    [Fact]
    public void FollowUp_FallsBackOnlyToRoutesOnTheSameUpstream()
    {
        var policy = new PolicyLoader(new StubPolicyEnvironment(["openai", "azure"]), TimeProvider.System).Load("""
            default_route: frontier
            routes:
              frontier: { kind: hosted, upstream: openai, model: gpt-4o, price: { input_per_mtok: 2.5, output_per_mtok: 10 }, fallbacks: [other, cheap] }
              cheap: { kind: hosted, upstream: openai, model: gpt-4o-mini, price: { input_per_mtok: 0.15, output_per_mtok: 0.6 } }
              other: { kind: hosted, upstream: azure, model: gpt-4o, price: { input_per_mtok: 2.5, output_per_mtok: 10 } }
            """).Policy!;
        using var request = OpenAiRequest.Parse(OpenAiOperation.Responses, """{"model":"auto","input":"more","previous_response_id":"resp_1"}"""u8.ToArray());

        var decision = new Router().Decide(policy, request, classification: null,
            new RequestFacts("research", "research-ci", FollowUpOf: new ResponseOrigin("frontier", "openai", "research")));

        Assert.Equal("frontier", decision.Route.Name);
        Assert.Equal(["cheap"], decision.Fallbacks.Select(r => r.Name));
    }

    [Fact]
    public void FollowUp_PinnedToAnotherModelOnTheSameUpstream_KeepsThePin()
    {
        var decision = FollowUp("gpt-4o-mini", new ResponseOrigin("frontier", "openai", "research"));
        Assert.Equal("gpt-4o-mini", decision.TargetModel);
        Assert.Equal(DecisionVia.Pinned, decision.Via);
    }

    [Fact]
    public void FollowUp_OfARouteNoLongerInThePolicy_TakesAnotherRouteOnItsUpstream_ElseIsA400()
    {
        Assert.Equal("frontier", FollowUp("auto", new ResponseOrigin("removed", "openai", "research")).Route.Name);

        var error = Assert.Throws<OpenAiException>(() => FollowUp("auto", new ResponseOrigin("elsewhere", "azure", "research")));
        Assert.Equal(400, error.Status);
        Assert.Equal("previous_response_unreachable", error.Code);
        Assert.Equal("previous_response_id", error.Param);
    }
}
