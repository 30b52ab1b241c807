using Gateway.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Auth;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary><c>/admin/keys</c>: client keys created, limited, rotated and revoked at runtime, on every replica.</summary>
public sealed class VirtualKeyTests : GatewayWithUpstream
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Ledger:Durability"] = "sync" };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonNode> Create(GatewayHost gateway, string body)
    {
        using var admin = gateway.AdminClient();
        using var response = await admin.PostAsync("/admin/keys", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonNode.Parse(text)!;
    }

    private static async Task<HttpStatusCode> Chat(GatewayHost gateway, string key, string model = "auto", HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.BaseUrl + "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model, messages = new[] { new { role = "user", content = "hi" } } }),
        };
        request.Headers.Authorization = new("Bearer", key);
        using var response = await (client ?? gateway.Client).SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<bool> Within(TimeSpan limit, Func<Task<bool>> condition)
    {
        for (var deadline = DateTime.UtcNow + limit; DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            if (await condition())
            {
                return true;
            }
        }

        return await condition();
    }

    [Fact]
    public async Task Create_ShowsTheSecretOnce_TheKeyWorksAtOnce_AndSpendIsRecordedUnderItsName()
    {
        var created = await Create(Gateway, """{"name":"billing-app","team":"finance","owner":"ana@example.com","metadata":{"cost_center":"42"}}""");
        var secret = created["key"]!.GetValue<string>();
        var id = created["id"]!.GetValue<string>();

        Assert.StartsWith("sk-gw-", secret, StringComparison.Ordinal);
        Assert.Equal("active", created["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, secret));

        using var admin = Gateway.AdminClient();
        var listed = await admin.GetStringAsync("/admin/keys");
        var single = await admin.GetStringAsync($"/admin/keys/{id}");
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, single, StringComparison.Ordinal);
        Assert.Null(JsonNode.Parse(single)!["key"]);
        Assert.Equal(secret[..10] + "…", JsonNode.Parse(single)!["key_prefix"]!.GetValue<string>());

        var row = JsonNode.Parse(await admin.GetStringAsync("/admin/spend?group_by=team,key"))!["rows"]!.AsArray()
            .Single(r => r!["group"]!["team"]!.GetValue<string>() == "finance")!;
        Assert.Equal("billing-app", row["group"]!["key"]!.GetValue<string>());
        Assert.Equal(1, row["requests"]!.GetValue<long>());
    }

    [Fact]
    public async Task Revoke_RefusesTheKeyAtOnce_EvenOnAConnectionThatUsedIt()
    {
        var created = await Create(Gateway, """{"name":"leaked","team":"research"}""");
        var secret = created["key"]!.GetValue<string>();
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 };
        using var oneConnection = new HttpClient(handler);
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, secret, client: oneConnection));

        using var admin = Gateway.AdminClient();
        using var revoke = await admin.DeleteAsync($"/admin/keys/{created["id"]}");
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal("revoked", JsonNode.Parse(await revoke.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Unauthorized, await Chat(Gateway, secret, client: oneConnection));
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, GatewayHost.ClientKey, client: oneConnection));
        using var rotateRevoked = await admin.PostAsync($"/admin/keys/{created["id"]}/rotate", null);
        Assert.Equal(HttpStatusCode.Conflict, rotateRevoked.StatusCode);
    }

    [Fact]
    public async Task Rotate_KeepsTheOldSecretForTheGracePeriodOnly()
    {
        var created = await Create(Gateway, """{"name":"rotating","team":"research"}""");
        var old = created["key"]!.GetValue<string>();
        using var admin = Gateway.AdminClient();

        using var rotate = await admin.PostAsync($"/admin/keys/{created["id"]}/rotate", Json("""{"grace_seconds":2}"""));
        var rotated = JsonNode.Parse(await rotate.Content.ReadAsStringAsync())!;
        var fresh = rotated["key"]!.GetValue<string>();

        Assert.NotEqual(old, fresh);
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, fresh));
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, old));
        Assert.NotNull(rotated["previous_key_valid_until"]);
        Assert.True(await Within(TimeSpan.FromSeconds(5), async () => await Chat(Gateway, old) == HttpStatusCode.Unauthorized));
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, fresh));
    }

    [Fact]
    public async Task Expiry_AndModelLimits_AreEnforced()
    {
        var expiring = await Create(Gateway, $$"""{"name":"short-lived","team":"research","expires_at":"{{DateTimeOffset.UtcNow.AddSeconds(2):O}}"}""");
        var limited = await Create(Gateway, """{"name":"small-only","team":"research","models":["small-model"]}""");

        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, expiring["key"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, limited["key"]!.GetValue<string>(), "small-model"));
        Assert.Equal(HttpStatusCode.Forbidden, await Chat(Gateway, limited["key"]!.GetValue<string>(), "auto"));
        Assert.Equal(HttpStatusCode.Forbidden, await Chat(Gateway, limited["key"]!.GetValue<string>(), "big-model"));

        using var models = new HttpClient();
        models.DefaultRequestHeaders.Authorization = new("Bearer", limited["key"]!.GetValue<string>());
        var ids = JsonNode.Parse(await models.GetStringAsync(Gateway.BaseUrl + "/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>());
        Assert.Equal(["small-model"], ids);

        Assert.True(await Within(TimeSpan.FromSeconds(5), async () => await Chat(Gateway, expiring["key"]!.GetValue<string>()) == HttpStatusCode.Unauthorized));
        using var admin = Gateway.AdminClient();
        Assert.Equal("expired", JsonNode.Parse(await admin.GetStringAsync($"/admin/keys/{expiring["id"]}"))!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_ChangesLimits_AndEveryChangeIsAudited()
    {
        var created = await Create(Gateway, """{"name":"tuned","team":"research","rpm_limit":10}""");
        var id = created["id"]!.GetValue<string>();
        using var admin = Gateway.AdminClient();

        using var patch = await admin.PatchAsync($"/admin/keys/{id}", Json("""{"rpm_limit":20,"models":["small-model"],"owner":null}"""));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var updated = JsonNode.Parse(await patch.Content.ReadAsStringAsync())!;
        Assert.Equal(20, updated["rpm_limit"]!.GetValue<int>());
        Assert.Equal(["small-model"], updated["models"]!.AsArray().Select(m => m!.GetValue<string>()));
        await admin.PostAsync($"/admin/keys/{id}/rotate", null);
        await admin.DeleteAsync($"/admin/keys/{id}");

        var audit = JsonNode.Parse(await admin.GetStringAsync($"/admin/keys/audit?key={id}"))!["data"]!.AsArray();
        Assert.Equal(["revoke", "rotate", "update", "create"], audit.Select(e => e!["action"]!.GetValue<string>()));
        Assert.Equal(20, audit[2]!["detail"]!["rpm_limit"]!.GetValue<int>());
        Assert.All(audit, e => Assert.Equal("admin-key", e!["actor"]!.GetValue<string>()));
        Assert.DoesNotContain("sk-gw-", audit.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"team":"research"}""", "name")]
    [InlineData("""{"name":"x y","team":"research"}""", "name")]
    [InlineData("""{"name":"ok"}""", "team")]
    [InlineData("""{"name":"ok","team":"research","rpm_limit":-5}""", "rpm_limit")]
    [InlineData("""{"name":"ok","team":"research","tpm_limit":0}""", "tpm_limit")]
    [InlineData("""{"name":"ok","team":"research","rpm_limit":"many"}""", "rpm_limit")]
    [InlineData("""{"name":"ok","team":"research","expires_at":"2001-01-01T00:00:00Z"}""", "expires_at")]
    [InlineData("""{"name":"ok","team":"research","models":[]}""", "models")]
    [InlineData("""{"name":"ok","team":"research","colour":"red"}""", "colour")]
    [InlineData("""{"name":"ok","scopes":["everything"]}""", "scopes[0]")]
    [InlineData("""{"name":"ok","team":"research","scopes":["spend:read"]}""", "team")]
    [InlineData("""{"name":"research-ci","team":"research"}""", "name")]
    [InlineData("""{"name":"ok","team":"research","budget":{"daily_usd":-1}}""", "budget.daily_usd")]
    [InlineData("""{"name":"ok","team":"research","budget":{"monthly_usd":5000000}}""", "budget.monthly_usd")]
    [InlineData("""{"name":"ok","team":"research","budget":{}}""", "budget.daily_usd")]
    [InlineData("""{"name":"ok","team":"research","budget":{"daily_usd":1,"on_exceed":"shrug"}}""", "budget.on_exceed")]
    [InlineData("""{"name":"ok","team":"research","budget":{"daily_usd":1,"downgrade_to":"frontier"}}""", "budget.downgrade_to")]
    [InlineData("""{"name":"ok","team":"research","budget":{"daily_usd":1,"on_exceed":"downgrade","downgrade_to":"nowhere"}}""", "budget.downgrade_to")]
    [InlineData("""{"name":"ok","team":"research","budget":{"daily_usd":"lots"}}""", "budget.daily_usd")]
    [InlineData("""{"name":"ok","scopes":["admin"],"budget":{"daily_usd":1}}""", "budget")]
    public async Task BadInput_IsA400NamingTheField_AndWritesNothing(string body, string param)
    {
        using var admin = Gateway.AdminClient();

        using var response = await admin.PostAsync("/admin/keys", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(param, error["param"]!.GetValue<string>());
        Assert.Empty(JsonNode.Parse(await admin.GetStringAsync("/admin/keys"))!["data"]!.AsArray());
        Assert.Empty(JsonNode.Parse(await admin.GetStringAsync("/admin/keys/audit"))!["data"]!.AsArray());
    }

    [Fact]
    public async Task AKeysOwnBudget_RefusesThatKeyOnly_NamesIt_AndCanBeLiftedAtRuntime()
    {
        // $0.00575 a request (1,000 + 200 cached prompt tokens, 300 completion on big-model): two fit under $0.01, the third is refused.
        var created = await Create(Gateway, """{"name":"batch-job","team":"research","budget":{"daily_usd":0.01}}""");
        var secret = created["key"]!.GetValue<string>();
        Assert.Equal(0.01m, created["budget"]!["daily_usd"]!.GetValue<decimal>());
        Assert.Equal("reject", created["budget"]!["on_exceed"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, secret));
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, secret));
        using var refused = await Gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } }),
            Headers = { Authorization = new("Bearer", secret) },
        });
        var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("budget_exceeded", error["code"]!.GetValue<string>());
        Assert.StartsWith("Key 'batch-job' has used its daily budget of $0.01: $0.0115 spent", error["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // The team has no budget: its other keys are not affected.
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, GatewayHost.ClientKey));

        // Explain for that key shows why.
        using var admin = Gateway.AdminClient();
        using var explained = await admin.PostAsync("/admin/route/explain?team=research&key=batch-job", Json("""{"model":"auto","messages":[{"role":"user","content":"hi"}]}"""));
        var trace = JsonNode.Parse(await explained.Content.ReadAsStringAsync())!;
        Assert.Equal("key:batch-job", trace["trace"]!["key_budget"]!["team"]!.GetValue<string>());
        Assert.Equal("daily", trace["trace"]!["key_budget"]!["exceeded"]!.GetValue<string>());

        // Raised at runtime: admitted again at once (the spend so far still counts).
        using var raised = await admin.PatchAsync($"/admin/keys/{created["id"]}", Json("""{"budget":{"daily_usd":0.015}}"""));
        Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, secret));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Chat(Gateway, secret));
        using var lifted = await admin.PatchAsync($"/admin/keys/{created["id"]}", Json("""{"budget":null}"""));
        Assert.Null(JsonNode.Parse(await lifted.Content.ReadAsStringAsync())!["budget"]);
        Assert.Equal(HttpStatusCode.OK, await Chat(Gateway, secret));
    }

    [Fact]
    public async Task AKeysDowngradeBudget_MovesThatKeyToTheCheaperRoute()
    {
        const string policy = """
            default_route: frontier
            routes:
              frontier: { kind: hosted, upstream: fake, model: big-model, price: { input_per_mtok: 2.50, output_per_mtok: 10.00 } }
              cheap: { kind: hosted, upstream: fake, model: small-model, price: { input_per_mtok: 0.15, output_per_mtok: 0.60 } }
            """;
        await using var gateway = await GatewayHost.StartAsync(Upstream.BaseUrl, policy);
        var created = await Create(gateway, """{"name":"intern","team":"research","budget":{"daily_usd":0.001,"on_exceed":"downgrade","downgrade_to":"cheap"}}""");
        var secret = created["key"]!.GetValue<string>();

        async Task<string> Route()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } }),
                Headers = { Authorization = new("Bearer", secret) },
            };
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.GetValues("x-gateway-route").Single();
        }

        Assert.Equal("frontier", await Route());
        Assert.Equal("cheap", await Route());
        Assert.Equal("cheap", await Route());
    }

    [Fact]
    public async Task DuplicateName_IsA400_AndPatchCannotRename()
    {
        var created = await Create(Gateway, """{"name":"twice","team":"research"}""");
        using var admin = Gateway.AdminClient();

        using var duplicate = await admin.PostAsync("/admin/keys", Json("""{"name":"twice","team":"support"}"""));
        using var rename = await admin.PatchAsync($"/admin/keys/{created["id"]}", Json("""{"name":"other"}"""));
        using var missing = await admin.PatchAsync("/admin/keys/key_nope", Json("""{"rpm_limit":5}"""));

        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Equal("name", JsonNode.Parse(await duplicate.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, rename.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Single(JsonNode.Parse(await admin.GetStringAsync("/admin/keys"))!["data"]!.AsArray());
    }

    [Fact]
    public async Task ScopedAdminKeys_ReachOnlyTheirAreas_AndAreNamedInTheAudit()
    {
        var reader = (await Create(Gateway, """{"name":"finance-reader","scopes":["spend:read"]}"""))["key"]!.GetValue<string>();
        var keyAdmin = (await Create(Gateway, """{"name":"onboarding","scopes":["keys:write"]}"""))["key"]!.GetValue<string>();
        HttpClient As(string key)
        {
            var client = new HttpClient { BaseAddress = new Uri(Gateway.BaseUrl) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
            return client;
        }

        using var finance = As(reader);
        using var onboarding = As(keyAdmin);
        Assert.Equal(HttpStatusCode.OK, (await finance.GetAsync("/admin/spend?group_by=team")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await finance.GetAsync("/admin/status")).StatusCode);
        using var policyPut = await finance.PutAsync("/admin/policy", new StringContent(GatewayHost.DefaultPolicy, Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.Forbidden, policyPut.StatusCode);
        var error = JsonNode.Parse(await policyPut.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("insufficient_scope", error["code"]!.GetValue<string>());
        Assert.Contains("policy:write", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.PostAsync("/admin/keys", Json("""{"name":"x","team":"research"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await onboarding.GetAsync("/admin/spend")).StatusCode);

        // An admin key makes no model calls: it has no team to bill.
        Assert.Equal(HttpStatusCode.Unauthorized, await Chat(Gateway, reader));

        using var created = await onboarding.PostAsync("/admin/keys", Json("""{"name":"made-by-onboarding","team":"research"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var admin = Gateway.AdminClient();
        var audit = JsonNode.Parse(await admin.GetStringAsync($"/admin/keys/audit?key={JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]}"))!["data"]!.AsArray();
        Assert.Equal("onboarding", audit.Single()!["actor"]!.GetValue<string>());
    }

    [Fact]
    public async Task KeysNeedTheAdminKey()
    {
        using var response = await Gateway.Client.PostAsync("/admin/keys", Json("""{"name":"sneaky","team":"research"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

/// <summary>Two gateways on one database: a key made on one works on the other, and a revocation holds on both within ~1 s.</summary>
public sealed class VirtualKeyReplicaTests : IAsyncLifetime
{
    private FakeOpenAiUpstream _upstream = null!;
    private GatewayHost _a = null!;
    private GatewayHost _b = null!;
    private string _folder = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAiUpstream.StartAsync();
        _folder = TestFolders.Create("shared-db-").FullName;
        var settings = new Dictionary<string, string?> { ["Ledger:ConnectionString"] = $"Data Source={Path.Combine(_folder, "gateway.db")}" };
        var both = await Task.WhenAll(GatewayHost.StartAsync(_upstream.BaseUrl, settings: settings), GatewayHost.StartAsync(_upstream.BaseUrl, settings: settings));
        (_a, _b) = (both[0], both[1]);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private static async Task<HttpStatusCode> Chat(GatewayHost gateway, string key)
    {
        using var client = new HttpClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        using var response = await client.PostAsJsonAsync(gateway.BaseUrl + "/v1/chat/completions",
            new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } });
        return response.StatusCode;
    }

    [Fact]
    public async Task CreatedOnA_WorksOnBAtOnce_EvenBetweenPolls()
    {
        // C polls for key changes only every 5 minutes: the key works there on its first request all the same
        // (an unknown key of ours makes the replica reload before refusing it).
        await using var c = await GatewayHost.StartAsync(_upstream.BaseUrl, settings: new Dictionary<string, string?>
        {
            ["Ledger:ConnectionString"] = $"Data Source={Path.Combine(_folder, "gateway.db")}",
            ["Auth:KeyRefreshInterval"] = "00:05:00",
        });
        await Task.Delay(200); // C has done its first load
        using var adminA = _a.AdminClient();
        using var created = await adminA.PostAsync("/admin/keys", new StringContent("""{"name":"instant","team":"research"}""", Encoding.UTF8, "application/json"));
        var secret = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.OK, await Chat(c, secret));
        Assert.Equal(HttpStatusCode.Unauthorized, await Chat(c, VirtualKeyStore.SecretPrefix + "made-up-key-that-was-never-issued"));
    }

    [Fact]
    public async Task CreatedOnA_WorksOnB_RevokedOnA_RefusedOnBWithinTwoSeconds()
    {
        using var adminA = _a.AdminClient();
        using var created = await adminA.PostAsync("/admin/keys", new StringContent("""{"name":"shared","team":"research"}""", Encoding.UTF8, "application/json"));
        var key = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        var secret = key["key"]!.GetValue<string>();

        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (await Chat(_b, secret) != HttpStatusCode.OK)
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), "the key did not reach replica B within 2 s");
            await Task.Delay(50);
        }

        using var revoked = await adminA.DeleteAsync($"/admin/keys/{key["id"]}");
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        sw.Restart();
        while (await Chat(_b, secret) != HttpStatusCode.Unauthorized)
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), "the revocation did not reach replica B within 2 s");
            await Task.Delay(50);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await Chat(_a, secret));
    }
}
