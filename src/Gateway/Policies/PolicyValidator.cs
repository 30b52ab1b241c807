using FluentValidation;
using FluentValidation.Results;

namespace Gateway.Policies;

/// <summary>
/// Validates a policy document, collecting every error with its path in the document
/// (<c>routes.frontier.price.input_per_mtok: must be >= 0</c>) instead of stopping at the first.
/// </summary>
internal sealed class PolicyValidator
{
    private readonly IPolicyEnvironment _environment;
    private readonly PriceValidator _price = new();

    public PolicyValidator(IPolicyEnvironment environment) => _environment = environment;

    public IReadOnlyList<string> Validate(PolicyDocument document)
    {
        var errors = new List<string>();
        var routes = document.Routes ?? [];
        if (routes.Count == 0)
        {
            errors.Add("routes: must define at least one route");
        }

        foreach (var (name, route) in routes)
        {
            ValidateRoute($"routes.{name}", route, routes, errors);
        }

        CheckReference("default_route", document.DefaultRoute, routes, required: true, errors);
        CheckReference("reference_route", document.ReferenceRoute, routes, required: false, errors);
        if (document.ReferenceRoute is { } reference && routes.GetValueOrDefault(reference) is { } referenced
            && referenced.Kind != RouteKinds.Hosted)
        {
            errors.Add($"reference_route: '{reference}' must be a hosted route (savings are measured against a hosted model)");
        }

        CheckFallbackCycles(routes, errors);
        return errors;
    }

    private void ValidateRoute(string path, RouteDocument? route, Dictionary<string, RouteDocument?> routes, List<string> errors)
    {
        if (route is null)
        {
            errors.Add($"{path}: must be a mapping with kind, model and price");
            return;
        }

        if (route.Kind is null || !RouteKinds.All.Contains(route.Kind))
        {
            errors.Add($"{path}.kind: must be one of {string.Join(", ", RouteKinds.All)}");
        }
        else if (_environment.TargetsFor(route.Kind) is not { } targets)
        {
            errors.Add($"{path}.kind: '{route.Kind}' routes are not available in this gateway build yet");
        }
        else if (route.Kind == RouteKinds.Hosted)
        {
            if (string.IsNullOrWhiteSpace(route.Upstream))
            {
                errors.Add($"{path}.upstream: is required for hosted routes (a name under Upstreams: in configuration)");
            }
            else if (!targets.Contains(route.Upstream))
            {
                errors.Add($"{path}.upstream: '{route.Upstream}' is not configured; set Upstreams:{route.Upstream}:BaseUrl "
                           + $"(known: {(targets.Count == 0 ? "none" : string.Join(", ", targets))})");
            }
        }

        if (string.IsNullOrWhiteSpace(route.Model))
        {
            errors.Add($"{path}.model: is required");
        }

        if (route.Price is null)
        {
            errors.Add($"{path}.price: is required (USD per 1M input and output tokens; 0 is allowed but must be written)");
        }
        else
        {
            AddAll(errors, $"{path}.price", _price.Validate(route.Price));
        }

        foreach (var (model, price) in route.Models ?? [])
        {
            if (price is null)
            {
                errors.Add($"{path}.models.{model}: must give a price for the model");
            }
            else
            {
                AddAll(errors, $"{path}.models.{model}", _price.Validate(price));
            }
        }

        var fallbacks = route.Fallbacks ?? [];
        for (var i = 0; i < fallbacks.Count; i++)
        {
            if (!routes.ContainsKey(fallbacks[i]))
            {
                errors.Add($"{path}.fallbacks[{i}]: unknown route '{fallbacks[i]}'");
            }
        }
    }

    private static void CheckReference(string path, string? name, Dictionary<string, RouteDocument?> routes, bool required, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            if (required)
            {
                errors.Add($"{path}: is required (the route used for model \"auto\")");
            }
        }
        else if (!routes.ContainsKey(name))
        {
            errors.Add($"{path}: unknown route '{name}'");
        }
    }

    private static void CheckFallbackCycles(Dictionary<string, RouteDocument?> routes, List<string> errors)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var path = new List<string>();
        foreach (var name in routes.Keys)
        {
            Visit(name);
        }

        void Visit(string name)
        {
            var onPath = path.IndexOf(name);
            if (onPath >= 0)
            {
                errors.Add($"routes.{name}.fallbacks: cycle {string.Join(" -> ", path[onPath..])} -> {name}");
                return;
            }

            if (!done.Add(name))
            {
                return;
            }

            path.Add(name);
            foreach (var next in routes.GetValueOrDefault(name)?.Fallbacks ?? [])
            {
                if (routes.ContainsKey(next))
                {
                    Visit(next);
                }
            }

            path.RemoveAt(path.Count - 1);
        }
    }

    private static void AddAll(List<string> errors, string path, ValidationResult result)
    {
        foreach (var error in result.Errors)
        {
            errors.Add($"{path}.{error.PropertyName}: {error.ErrorMessage}");
        }
    }

    private sealed class PriceValidator : AbstractValidator<PriceDocument>
    {
        public PriceValidator()
        {
            RuleFor(p => p.InputPerMtok).NotNull().WithMessage("is required").GreaterThanOrEqualTo(0).WithMessage("must be >= 0")
                .OverridePropertyName("input_per_mtok");
            RuleFor(p => p.OutputPerMtok).NotNull().WithMessage("is required").GreaterThanOrEqualTo(0).WithMessage("must be >= 0")
                .OverridePropertyName("output_per_mtok");
            RuleFor(p => p.CachedInputPerMtok).GreaterThanOrEqualTo(0).WithMessage("must be >= 0")
                .OverridePropertyName("cached_input_per_mtok");
        }
    }
}
