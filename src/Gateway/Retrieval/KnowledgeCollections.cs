using System.Text.RegularExpressions;

namespace Gateway.Retrieval;

/// <summary>What a knowledge collection may be called: one rule for the admin API and the policy validator.</summary>
public static partial class KnowledgeCollections
{
    public const string NameRule = "1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit";

    public static bool IsValidName(string name) => Name().IsMatch(name);

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9_-]{0,63}\z")]
    private static partial Regex Name();
}
