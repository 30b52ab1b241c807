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
        services.AddSingleton<ClientKeyStore>();
        return services;
    }
}

internal sealed class AuthOptionsValidator : AbstractValidator<AuthOptions>
{
    public AuthOptionsValidator()
    {
        RuleForEach(o => o.Keys).ChildRules(key =>
        {
            key.RuleFor(k => k.Key).NotEmpty().MinimumLength(16)
                .WithMessage("must be at least 16 characters (a guessable client key is a spend leak)");
            key.RuleFor(k => k.Team).NotEmpty().WithMessage("must name the team the key's spend counts against");
        }).OverridePropertyName("Keys");
        RuleFor(o => o.Keys).Must(keys => keys.Select(k => k.Key).Distinct(StringComparer.Ordinal).Count() == keys.Count)
            .WithMessage("must not contain the same key twice");
        RuleFor(o => o.AdminKey).MinimumLength(16).When(o => !string.IsNullOrEmpty(o.AdminKey))
            .WithMessage("must be at least 16 characters");
    }
}

internal sealed class AuthOptionsValidation : IValidateOptions<AuthOptions>
{
    private readonly AuthOptionsValidator _validator = new();

    public ValidateOptionsResult Validate(string? name, AuthOptions options) =>
        OptionsValidation.From(_validator.Validate(options), AuthOptions.Section);
}
