using System.Text.RegularExpressions;
using FluentValidation.Results;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>Turns FluentValidation results into options failures that name the configuration key.</summary>
internal static partial class OptionsValidation
{
    public static ValidateOptionsResult From(ValidationResult result, string section)
    {
        if (result.IsValid)
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(result.Errors.Select(e => $"{section}:{ConfigPath(e.PropertyName)} {e.ErrorMessage}"));
    }

    /// <summary><c>Keys[0].Key</c> → <c>Keys:0:Key</c>, the spelling an admin types in configuration.</summary>
    private static string ConfigPath(string propertyName) => Indexer().Replace(propertyName, ":$1").Replace('.', ':');

    [GeneratedRegex(@"\[([^\]]+)\]")]
    private static partial Regex Indexer();
}
