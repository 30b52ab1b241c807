using System.Collections.Frozen;
using System.Security.Cryptography;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Gateway.Policies;

/// <summary>Parses and validates a policy document into a <see cref="RoutingPolicy"/>.</summary>
public sealed class PolicyLoader(IPolicyEnvironment environment, TimeProvider timeProvider)
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    private readonly PolicyValidator _validator = new(environment);

    /// <summary>Loads <paramref name="yaml"/>; on failure the result lists every error and no policy.</summary>
    public PolicyLoadResult Load(string yaml)
    {
        PolicyDocument? document;
        try
        {
            document = Deserializer.Deserialize<PolicyDocument?>(yaml);
        }
        catch (YamlException ex)
        {
            var inner = ex.InnerException?.Message ?? ex.Message;
            return PolicyLoadResult.Failed($"line {ex.Start.Line}, column {ex.Start.Column}: {inner}");
        }

        if (document is null)
        {
            return PolicyLoadResult.Failed("the document is empty");
        }

        var errors = _validator.Validate(document);
        if (errors.Count > 0)
        {
            return new PolicyLoadResult(null, errors);
        }

        var routes = document.Routes!.Select(pair => ToRoute(pair.Key, pair.Value!)).ToList();
        var policy = new RoutingPolicy(Version(yaml), timeProvider.GetUtcNow(), routes, document.DefaultRoute!, document.ReferenceRoute);
        return new PolicyLoadResult(policy, []);
    }

    private static PolicyRoute ToRoute(string name, RouteDocument route) => new()
    {
        Name = name,
        Kind = route.Kind!,
        Upstream = route.Upstream,
        Model = route.Model!,
        Price = route.Price!.ToPrice(),
        PinnableModels = (route.Models ?? []).ToFrozenDictionary(p => p.Key, p => p.Value!.ToPrice(), StringComparer.Ordinal),
        Fallbacks = route.Fallbacks ?? [],
    };

    private static string Version(string yaml) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(yaml)))[..12];
}

/// <summary>A policy, or the errors that kept it from loading.</summary>
public sealed record PolicyLoadResult(RoutingPolicy? Policy, IReadOnlyList<string> Errors)
{
    public static PolicyLoadResult Failed(string error) => new(null, [error]);
}
