using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.IntegrationTests.Infrastructure;

namespace Gateway.IntegrationTests;

/// <summary>
/// A bounded, seeded fuzz over every endpoint that reads a body: whatever arrives, the answer is never a 5xx and every
/// refusal is an OpenAI-shaped error. The bodies are valid requests with invalid text spliced in (escaped lone
/// surrogates, invalid UTF-8), wrong types, extreme numbers, and random byte edits.
/// </summary>
public sealed class FuzzTests : GatewayWithUpstream
{
    private const int MutationsPerEndpoint = 40;

    private static readonly string[] Poison =
    [
        "\\ud800", "\\udc00\\ud800", "\\uDBFF", "x\\ud83d", "\\ud83d\\u0041",
        "-1", "0", "1e400", "-9223372036854775809", "2147483648", "null", "true", "[]", "{}", "\"\"",
    ];

    private static readonly byte[][] BadBytes = [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80]];

    public static TheoryData<string, string, string> Endpoints => new()
    {
        { "client", "/v1/chat/completions", """{"model":"auto","max_tokens":5,"n":1,"messages":[{"role":"user","content":"Say hi"}]}""" },
        { "client", "/v1/completions", """{"model":"auto","max_tokens":5,"prompt":"Say hi"}""" },
        { "client", "/v1/embeddings", """{"model":"embed-model","input":"Say hi"}""" },
        { "admin", "/admin/classify", """{"messages":[{"role":"user","content":"Say hi"}]}""" },
        { "admin", "/admin/route/explain?team=research", """{"model":"auto","max_tokens":5,"messages":[{"role":"user","content":"Say hi"}]}""" },
        { "admin", "/admin/policy/validate", """{"document":"default_route: frontier\nroutes: {}"}""" },
        { "admin", "/admin/knowledge/fuzz/documents", """{"id":"d1","title":"T","text":"Leave is 25 days."}""" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task NoBody_GetsA5xx_AndEveryRefusalIsOpenAiShaped(string who, string path, string valid)
    {
        using var admin = Gateway.AdminClient();
        var client = who == "admin" ? admin : Gateway.Client;
        var random = new Random(path.Length * 7919);
        var bodies = Bodies(valid, random).ToList();

        var failures = new List<string>();
        foreach (var body in bodies)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync(path, content);
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status >= 500 || (status >= 400 && !IsOpenAiError(text)))
            {
                failures.Add($"{status} for {Convert.ToBase64String(body)}: {text[..Math.Min(200, text.Length)]}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {bodies.Count} bodies:\n{string.Join("\n", failures.Take(5))}");
    }

    [Theory]
    [InlineData("{\"a\":\"\\udc00\\ud800\"}")]
    [InlineData("default_route: \"\\ud800\"")]
    [InlineData("default_route: \"\\U0011FFFF\"")]
    public async Task PolicyYaml_WithAnEscapeThatIsNotText_Is400(string yaml)
    {
        using var admin = Gateway.AdminClient();
        using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");

        using var response = await admin.PostAsync("/admin/policy/validate", content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode is 200 or 400, $"{(int)response.StatusCode}: {text}");
        Assert.Contains("\"valid\":false", text.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    private static IEnumerable<byte[]> Bodies(string valid, Random random)
    {
        var utf8 = Encoding.UTF8.GetBytes(valid);
        // Every string value and every number replaced by each poison, in turn.
        var slots = Slots(valid).ToList();
        foreach (var (start, length) in slots)
        {
            foreach (var poison in Poison)
            {
                var replacement = poison.StartsWith('\\') || poison.StartsWith('x') ? $"\"{poison}\"" : poison;
                yield return Encoding.UTF8.GetBytes(string.Concat(valid.AsSpan(0, start), replacement, valid.AsSpan(start + length)));
            }
        }

        // Invalid UTF-8 inside a string value.
        foreach (var bad in BadBytes)
        {
            var at = valid.LastIndexOf('"') - 1;
            yield return [.. utf8.AsSpan(0, at), .. bad, .. utf8.AsSpan(at)];
        }

        // Random byte edits: flip, delete, duplicate, truncate.
        for (var i = 0; i < MutationsPerEndpoint; i++)
        {
            var copy = utf8.ToList();
            var edits = 1 + random.Next(3);
            for (var e = 0; e < edits && copy.Count > 1; e++)
            {
                var at = random.Next(copy.Count);
                switch (random.Next(4))
                {
                    case 0: copy[at] = (byte)random.Next(256); break;
                    case 1: copy.RemoveAt(at); break;
                    case 2: copy.Insert(at, copy[at]); break;
                    default: copy.RemoveRange(at, copy.Count - at); break;
                }
            }

            yield return [.. copy];
        }
    }

    /// <summary>Where each JSON value that is a string or a number starts and how long it is.</summary>
    private static IEnumerable<(int Start, int Length)> Slots(string json)
    {
        for (var i = 0; i < json.Length; i++)
        {
            if (json[i] == ':' && i + 1 < json.Length)
            {
                var start = i + 1;
                var end = start;
                if (json[start] == '"')
                {
                    end = json.IndexOf('"', start + 1) + 1;
                }
                else
                {
                    while (end < json.Length && (char.IsAsciiDigit(json[end]) || json[end] == '-'))
                    {
                        end++;
                    }
                }

                if (end > start)
                {
                    yield return (start, end - start);
                }
            }
        }
    }

    private static bool IsOpenAiError(string text)
    {
        try
        {
            return JsonNode.Parse(text)?["error"] is JsonObject error
                   && error["message"] is JsonValue && error["type"] is JsonValue && error.ContainsKey("param") && error.ContainsKey("code");
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
