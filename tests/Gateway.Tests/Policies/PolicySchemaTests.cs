using System.Text.Json;
using Json.Schema;
using YamlDotNet.Serialization;

namespace Gateway.Tests.Policies;

/// <summary>policies/routing.schema.json (for editors) agrees with the shipped policy and the validator.</summary>
public sealed class PolicySchemaTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "policies");

    // Parsed once: JsonSchema.Net registers a schema's $id globally and refuses to register it twice.
    private static readonly Lazy<JsonSchema> Parsed = new(() => JsonSchema.FromText(File.ReadAllText(Path.Combine(Folder, "routing.schema.json"))));

    private static JsonSchema Schema() => Parsed.Value;

    private static JsonElement ToJson(string yaml)
    {
        var value = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build().Deserialize<object>(yaml);
        return JsonSerializer.SerializeToElement(value);
    }

    [Fact]
    public void ShippedPolicy_ConformsToTheSchema()
    {
        var result = Schema().Evaluate(ToJson(File.ReadAllText(Path.Combine(Folder, "routing.yaml"))), new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(result.IsValid, string.Join("; ", result.Details?.Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")) ?? []));
    }

    [Theory]
    [InlineData("type: min_cost", "type: cheapest")]
    [InlineData("on_exceed: reject", "on_exceed: shrug")]
    [InlineData("latency_class: fast", "latency_class: warp")]
    [InlineData("quality_floor: 0.75", "quality_floor: 7.5")]
    public void SchemaRejects_WhatTheValidatorRejects(string find, string replace)
    {
        var yaml = File.ReadAllText(Path.Combine(Folder, "routing.yaml"));
        Assert.Contains(find, yaml, StringComparison.Ordinal);

        Assert.False(Schema().Evaluate(ToJson(yaml.Replace(find, replace, StringComparison.Ordinal))).IsValid);
    }
}
