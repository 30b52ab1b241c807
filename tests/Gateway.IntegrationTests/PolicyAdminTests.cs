using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>The policy admin API, hot reload from disk, audit and rollback, over HTTP.</summary>
public sealed class PolicyAdminTests : GatewayWithUpstream
{
    /// <summary>The test policy with a cheaper route, an objective and a rule: a real change to apply.</summary>
    private static readonly string Changed = GatewayHost.DefaultPolicy.Replace("""
        routes:
          frontier:
        """, """
        objective: { type: min_cost, quality_floor: 0.7 }
        rules:
          - name: math-to-frontier
            when: { category: [math] }
            then: { route: frontier }
        routes:
          cheap:
            kind: hosted
            upstream: fake
            model: small-model-2
            price: { input_per_mtok: 0.1, output_per_mtok: 0.4 }
            quality: { default: 0.8 }
          frontier:
            quality: { default: 0.95 }
        """, StringComparison.Ordinal);

    private static StringContent Yaml(string text) => new(text, Encoding.UTF8, "application/yaml");

    private static async Task<JsonNode> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    private async Task<string> ServedVersion()
    {
        using var admin = Gateway.AdminClient();
        return (await Json(await admin.GetAsync("/admin/policy")))["version"]!.GetValue<string>();
    }

    private async Task<string> RouteOf(string prompt)
    {
        using var response = await Gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "auto",
            messages = new[] { new { role = "user", content = prompt } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("x-gateway-route").Single();
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan within)
    {
        for (var deadline = DateTime.UtcNow + within; DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            if (await condition())
            {
                return true;
            }
        }

        return await condition();
    }

    [Fact]
    public void ChangedPolicy_IsAValidTestFixture() => Assert.Contains("math-to-frontier", Changed, StringComparison.Ordinal);

    [Theory]
    [InlineData("GET", "/admin/policy")]
    [InlineData("POST", "/admin/policy/validate")]
    [InlineData("PUT", "/admin/policy")]
    [InlineData("GET", "/admin/policy/history")]
    [InlineData("POST", "/admin/policy/rollback/abc")]
    [InlineData("POST", "/admin/route/explain")]
    public async Task AdminPolicyApi_RequiresTheAdminKey(string method, string path)
    {
        using var withClientKey = await Gateway.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = Yaml("x") });
        using var anonymous = await new HttpClient { BaseAddress = new Uri(Gateway.BaseUrl) }
            .SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = Yaml("x") });

        Assert.Equal(HttpStatusCode.Unauthorized, withClientKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("authentication_error", (await Json(withClientKey))["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetPolicy_ReturnsTheDocumentAndVersion()
    {
        using var admin = Gateway.AdminClient();

        var body = await Json(await admin.GetAsync("/admin/policy"));

        Assert.Matches("^[0-9a-f]{12}$", body["version"]!.GetValue<string>());
        Assert.Equal(GatewayHost.DefaultPolicy, body["document"]!.GetValue<string>());
        Assert.Equal("frontier", body["routes"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Validate_ReportsErrorsAndAppliesNothing()
    {
        using var admin = Gateway.AdminClient();
        var before = await ServedVersion();

        var body = await Json(await admin.PostAsync("/admin/policy/validate",
            Yaml(GatewayHost.DefaultPolicy.Replace("input_per_mtok: 2.50", "input_per_mtok: -2.50", StringComparison.Ordinal))));

        Assert.False(body["valid"]!.GetValue<bool>());
        Assert.Contains("routes.frontier.price.input_per_mtok: must be >= 0", body["errors"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Equal(before, await ServedVersion());

        var ok = await Json(await admin.PostAsJsonAsync("/admin/policy/validate", new { document = Changed }));
        Assert.True(ok["valid"]!.GetValue<bool>());
        Assert.Equal(before, await ServedVersion());
    }

    [Fact]
    public async Task Put_Invalid_Is400WithEveryError_AndKeepsServing()
    {
        using var admin = Gateway.AdminClient();
        var before = await ServedVersion();

        using var response = await admin.PutAsync("/admin/policy",
            Yaml(GatewayHost.DefaultPolicy.Replace("default_route: frontier", "default_route: ghost", StringComparison.Ordinal)
                .Replace("input_per_mtok: 2.50", "input_per_mtok: -1", StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json(response))["error"]!;
        Assert.Equal("invalid_policy", error["code"]!.GetValue<string>());
        Assert.Equal(2, error["errors"]!.AsArray().Count);
        Assert.Equal(before, await ServedVersion());
        Assert.Equal(GatewayHost.DefaultPolicy, await File.ReadAllTextAsync(Gateway.PolicyPath));
    }

    [Fact]
    public async Task Put_Valid_AppliesAtOnce_WritesTheFile_AuditsIt_AndRollsBack()
    {
        using var admin = Gateway.AdminClient();
        var original = await ServedVersion();
        Assert.Equal("frontier", await RouteOf("hello there"));

        using var put = await admin.PutAsync("/admin/policy", Yaml(Changed));

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var applied = await Json(put);
        var changed = applied["version"]!.GetValue<string>();
        Assert.Equal(original, applied["previous_version"]!.GetValue<string>());
        Assert.Equal(changed, await ServedVersion());
        Assert.Equal(Changed, await File.ReadAllTextAsync(Gateway.PolicyPath));
        Assert.Equal("cheap", await RouteOf("hello there"));            // objective: cheapest meeting the floor
        Assert.Equal("frontier", await RouteOf("What is 348 times 27?")); // rule: math → frontier

        var history = (await Json(await admin.GetAsync("/admin/policy/history")))["entries"]!.AsArray();
        var newest = history[0]!;
        Assert.Equal("admin-key", newest["actor"]!.GetValue<string>());
        Assert.Equal("api", newest["source"]!.GetValue<string>());
        Assert.Equal(original, newest["version_before"]!.GetValue<string>());
        Assert.Equal(changed, newest["version_after"]!.GetValue<string>());
        Assert.Contains("+ ", newest["diff"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("math-to-frontier", newest["diff"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("start", history[1]!["source"]!.GetValue<string>());

        using var rollback = await admin.PostAsync($"/admin/policy/rollback/{original}", null);

        Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        Assert.Equal(original, await ServedVersion());
        Assert.Equal(GatewayHost.DefaultPolicy, await File.ReadAllTextAsync(Gateway.PolicyPath));
        Assert.Equal("frontier", await RouteOf("hello there"));
        var afterRollback = (await Json(await admin.GetAsync("/admin/policy/history")))["entries"]![0]!;
        Assert.Equal("rollback", afterRollback["source"]!.GetValue<string>());
        Assert.Equal(changed, afterRollback["version_before"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pin_ByATeamThePolicyDoesNotAllow_Is403InOpenAiShape()
    {
        using var admin = Gateway.AdminClient();
        var restricted = GatewayHost.DefaultPolicy.Replace("    model: big-model\n", "    model: big-model\n    pinnable_by: [support]\n", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/admin/policy", Yaml(restricted))).StatusCode);

        using var response = await Gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "frontier",
            messages = new[] { new { role = "user", content = "hi" } },
        });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = (await Json(response))["error"]!;
        Assert.Equal("permission_error", error["type"]!.GetValue<string>());
        Assert.Equal("model_not_allowed", error["code"]!.GetValue<string>());
        Assert.Equal("model", error["param"]!.GetValue<string>());
        Assert.Equal("frontier", await RouteOf("hi")); // auto still works
    }

    [Fact]
    public async Task Put_WhenTheFileCannotBeWritten_Is500AndAppliesNothing()
    {
        using var admin = Gateway.AdminClient();
        var before = await ServedVersion();
        // A directory where the temp file goes makes the write fail, even for root.
        Directory.CreateDirectory(Gateway.PolicyPath + ".tmp");

        using var response = await admin.PutAsync("/admin/policy", Yaml(Changed));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var error = (await Json(response))["error"]!;
        Assert.Equal("policy_not_writable", error["code"]!.GetValue<string>());
        Assert.Contains("nothing was applied", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await ServedVersion());
    }

    [Fact]
    public async Task Rollback_UnknownVersion_Is404()
    {
        using var admin = Gateway.AdminClient();

        using var response = await admin.PostAsync("/admin/policy/rollback/000000000000", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("policy_version_not_found", (await Json(response))["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task FileEdit_IsAppliedWithinTwoSeconds_AndAudited()
    {
        var original = await ServedVersion();

        await File.WriteAllTextAsync(Gateway.PolicyPath, Changed);

        Assert.True(await Eventually(async () => await ServedVersion() != original, TimeSpan.FromSeconds(3)), "the edit was not applied within 3 s");
        Assert.Equal("cheap", await RouteOf("hello there"));
        using var admin = Gateway.AdminClient();
        var newest = (await Json(await admin.GetAsync("/admin/policy/history")))["entries"]![0]!;
        Assert.Equal("file", newest["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task InvalidFileEdit_KeepsTheLastGoodPolicy_AndIsCounted()
    {
        var original = await ServedVersion();

        await File.WriteAllTextAsync(Gateway.PolicyPath, "routes: [this is: not valid");

        Assert.True(await Eventually(async () =>
            (await Gateway.Client.GetStringAsync("/metrics")).Contains("gateway_policy_reloads_total{result=\"failed\",source=\"file\"} 1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5)));
        Assert.Equal(original, await ServedVersion());
        Assert.Equal("frontier", await RouteOf("hello there"));
    }

    [Fact]
    public async Task TornFileWrite_UnderTraffic_OnlyTheWholeDocumentGoesLive()
    {
        // Written the way cp, cat > and many editors write: truncate, write part, pause, write the rest. The first part
        // alone is a valid policy (the changed routes without the budgets): it must never be served.
        const string Budgets = "\nbudgets:\n  research: { daily_usd: 100, on_exceed: reject }\n";
        var original = await ServedVersion();
        var versions = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await Gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
                {
                    model = "auto",
                    messages = new[] { new { role = "user", content = "hello there" } },
                });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                versions.Add(response.Headers.GetValues("x-gateway-policy-version").Single());
            }
        })).ToArray();

        await using (var file = new FileStream(Gateway.PolicyPath, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite))
        {
            await Task.Delay(150);
            await file.WriteAsync(Encoding.UTF8.GetBytes(Changed));
            await file.FlushAsync();
            await Task.Delay(300);
            await file.WriteAsync(Encoding.UTF8.GetBytes(Budgets));
        }

        Assert.True(await Eventually(async () => await ServedVersion() != original, TimeSpan.FromSeconds(3)), "the whole document was not applied");
        await Task.Delay(200);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        using var admin = Gateway.AdminClient();
        var served = await Json(await admin.GetAsync("/admin/policy"));
        Assert.EndsWith(Budgets, served["document"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Subset(new HashSet<string> { original, served["version"]!.GetValue<string>() }, versions.ToHashSet());
        var history = (await Json(await admin.GetAsync("/admin/policy/history")))["entries"]!.AsArray();
        Assert.Single(history, e => e!["source"]!.GetValue<string>() == "file");
    }

    [Fact]
    public async Task Swap_UnderConcurrentRequests_EveryRequestSeesOneWholePolicy()
    {
        using var admin = Gateway.AdminClient();
        var versions = new System.Collections.Concurrent.ConcurrentBag<(string Version, string Route)>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await Gateway.Client.PostAsJsonAsync("/v1/chat/completions", new
                {
                    model = "auto",
                    messages = new[] { new { role = "user", content = "hello there" } },
                });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                versions.Add((response.Headers.GetValues("x-gateway-policy-version").Single(), response.Headers.GetValues("x-gateway-route").Single()));
            }
        })).ToArray();

        await Task.Delay(200);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/admin/policy", Yaml(Changed))).StatusCode);
        await Task.Delay(200);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        // Each version always routes the same way: no request mixed the old policy with the new.
        var byVersion = versions.GroupBy(v => v.Version).ToDictionary(g => g.Key, g => g.Select(v => v.Route).Distinct().ToArray());
        Assert.Equal(2, byVersion.Count);
        Assert.All(byVersion.Values, routes => Assert.Single(routes));
    }

    [Fact]
    public async Task Explain_ShowsClassificationRulesCandidatesAndDecision_WithoutCallingTheUpstream()
    {
        using var admin = Gateway.AdminClient();
        await admin.PutAsync("/admin/policy", Yaml(Changed));
        var calls = Upstream.Received.Count;

        using var response = await admin.PostAsJsonAsync("/admin/route/explain?team=research&key=research-ci", new
        {
            model = "auto",
            messages = new[] { new { role = "user", content = "What is 348 multiplied by 27?" } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("math", body["classification"]!["category"]!.GetValue<string>());
        var rule = body["trace"]!["rules"]![0]!;
        Assert.Equal("math-to-frontier", rule["name"]!.GetValue<string>());
        Assert.True(rule["matched"]!.GetValue<bool>());
        Assert.Equal("category", rule["conditions"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(2, body["trace"]!["candidates"]!.AsArray().Count);
        Assert.Equal("frontier", body["decision"]!["route"]!.GetValue<string>());
        Assert.Equal("rule", body["decision"]!["via"]!.GetValue<string>());
        Assert.True(body["decision"]!["estimated_cost_usd"]!.GetValue<decimal>() > 0);
        Assert.Equal("research", body["facts"]!["team"]!.GetValue<string>());
        Assert.Equal(calls, Upstream.Received.Count);
    }

    [Fact]
    public async Task Explain_RefusedRequest_SaysWhy()
    {
        using var admin = Gateway.AdminClient();

        var body = await Json(await admin.PostAsJsonAsync("/admin/route/explain", new
        {
            model = "no-such-model",
            messages = new[] { new { role = "user", content = "hi" } },
        }));

        Assert.Null(body["decision"]);
        Assert.Equal("404:model_not_found", body["refused"]!["code"]!.GetValue<string>());
    }
}
