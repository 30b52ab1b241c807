namespace Gateway.Policies;

/// <summary>
/// What the running gateway can reach, so that validation rejects a policy naming an upstream or
/// model that does not exist. Implemented by the targets; Policies never reads their options.
/// </summary>
public interface IPolicyEnvironment
{
    /// <summary>Names that a route of <paramref name="kind"/> may reference as its target, or null when this build cannot serve the kind.</summary>
    IReadOnlySet<string>? TargetsFor(string kind);

    /// <summary>
    /// Why <paramref name="file"/> cannot serve as a LoRA adapter on local model <paramref name="baseModel"/> (a file that is
    /// there but wrong: a validation error), or null when it can or is not there yet (see <see cref="MissingAdapter"/>).
    /// </summary>
    string? CheckAdapter(string baseModel, string file) => null;

    /// <summary>
    /// Null when <paramref name="file"/> exists, else why the route is unavailable: like a missing model file, a missing
    /// adapter file makes its route unavailable (skipped, reported) rather than the whole policy invalid.
    /// </summary>
    string? MissingAdapter(string file) => null;
}
