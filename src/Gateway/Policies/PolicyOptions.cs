using System.ComponentModel.DataAnnotations;

namespace Gateway.Policies;

/// <summary>Where policies live, bound from the <c>Policies</c> section.</summary>
public sealed class PolicyOptions
{
    public const string Section = "Policies";
    public const string RoutingFileName = "routing.yaml";

    /// <summary>
    /// Folder holding <c>routing.yaml</c>. Default <c>policies</c>: resolved against the working directory,
    /// then against the application folder (where the shipped policy is copied at build time).
    /// </summary>
    [Required]
    public string Path { get; set; } = "policies";

    /// <summary>Apply edits of the file while running (default true): valid ones about 0.5 s after the file stops changing (so a file written in pieces is read whole), invalid ones logged and ignored.</summary>
    public bool ReloadOnChange { get; set; } = true;

    /// <summary>
    /// When true, <c>PUT /admin/policy</c> applies a document only with <c>?simulation=&lt;id&gt;</c> naming a simulation of
    /// that exact document (from <c>POST /admin/policy/simulate</c> on this replica, in the last 24 hours). Default false.
    /// </summary>
    public bool RequireSimulation { get; set; }
}
