using FluentValidation;
using Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Auth;

public static class AuthServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayAuth(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidation>();
        services.AddSingleton<VirtualKeyStore>();
        services.AddHostedService<VirtualKeyRefresher>();
        services.AddSingleton<ClientKeyStore>();
        services.AddSingleton<RateLimiter>();
        return services;
    }
}

internal sealed class AuthOptionsValidator : AbstractValidator<AuthOptions>
{
    public AuthOptionsValidator()
    {
        // An entry whose key is empty is no key (docker-compose passes an unset variable as ""): skipped, not an error.
        RuleForEach(o => o.Keys).ChildRules(key =>
        {
            key.RuleFor(k => k.Key).MinimumLength(16).When(k => !string.IsNullOrEmpty(k.Key))
                .WithMessage("must be at least 16 characters (a guessable client key is a spend leak)");
            key.RuleFor(k => k.RpmLimit).InclusiveBetween(1, 1_000_000).When(k => k.RpmLimit is not null).WithMessage("must be between 1 and 1,000,000");
            key.RuleFor(k => k.TpmLimit).InclusiveBetween(1, 10_000_000_000).When(k => k.TpmLimit is not null).WithMessage("must be between 1 and 10,000,000,000");
            key.RuleFor(k => k.Team).NotEmpty().When(k => !string.IsNullOrEmpty(k.Key)).WithMessage("must name the team the key's spend counts against");
        }).OverridePropertyName("Keys");
        RuleFor(o => o.Keys).Must(keys => keys.Where(k => !string.IsNullOrEmpty(k.Key)).GroupBy(k => k.Key, StringComparer.Ordinal).All(g => g.Count() == 1))
            .WithMessage("must not contain the same key twice");
        RuleFor(o => o.AdminKey).MinimumLength(16).When(o => !string.IsNullOrEmpty(o.AdminKey))
            .WithMessage("must be at least 16 characters");
        RuleFor(o => o.KeyHashSecret).MinimumLength(32).When(o => !string.IsNullOrEmpty(o.KeyHashSecret))
            .WithMessage("must be at least 32 characters (it keys the hash of every runtime client key)");
        RuleFor(o => o.KeyRefreshInterval).InclusiveBetween(TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5))
            .WithMessage("must be between 100 ms and 5 minutes");
        RuleFor(o => o.MetricsKey).MinimumLength(16).When(o => !string.IsNullOrEmpty(o.MetricsKey))
            .WithMessage("must be at least 16 characters");
    }
}

internal sealed class AuthOptionsValidation : IValidateOptions<AuthOptions>
{
    private readonly AuthOptionsValidator _validator = new();

    public ValidateOptionsResult Validate(string? name, AuthOptions options) =>
        OptionsValidation.From(_validator.Validate(options), AuthOptions.Section);
}
