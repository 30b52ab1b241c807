namespace Gateway.Policies;

/// <summary>
/// What the running gateway can reach, so that validation rejects a policy naming an upstream or
/// model that does not exist. Implemented by the targets; Policies never reads their options.
/// </summary>
public interface IPolicyEnvironment
{
    /// <summary>Names that a route of <paramref name="kind"/> may reference as its target, or null when this build cannot serve the kind.</summary>
    IReadOnlySet<string>? TargetsFor(string kind);

    /// <summary>Why <paramref name="file"/> cannot serve as a LoRA adapter on local model <paramref name="baseModel"/>, or null when it can.</summary>
    string? CheckAdapter(string baseModel, string file) => null;
}
