using System.Reflection;
using Gateway.Auth;
using Gateway.Classification;
using Gateway.OpenAi;
using Gateway.Policies;
using Gateway.Retrieval;
using Gateway.Targets.Hosted;
using Gateway.Targets.Local;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>
/// Reads every validated settings section, then the routing policy, before the host starts: a wrong
/// configuration is reported whole (every section's problems at once) as plain lines, rather than as the
/// first failing section's exception with a stack trace from inside the host.
/// </summary>
public static class StartupCheck
{
    private static readonly Type[] Sections =
    [
        typeof(AuthOptions), typeof(UpstreamsOptions), typeof(Dictionary<string, LocalModelOptions>), typeof(LedgerOptions),
        typeof(OpenAiOptions), typeof(ClassifierOptions), typeof(RetrievalOptions), typeof(PolicyOptions),
    ];

    /// <summary>Every configuration problem found; empty when the gateway can start.</summary>
    public static IReadOnlyList<string> Problems(IServiceProvider services)
    {
        var problems = new List<string>();
        foreach (var section in Sections)
        {
            var options = services.GetRequiredService(typeof(IOptions<>).MakeGenericType(section));
            try
            {
                options.GetType().GetProperty(nameof(IOptions<object>.Value))!.GetValue(options);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is OptionsValidationException invalid)
            {
                problems.AddRange(invalid.Failures.SelectMany(f => f.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)));
            }
        }

        if (problems.Count > 0)
        {
            return problems; // the policy is validated against these settings: they come first
        }

        problems.AddRange(services.GetRequiredService<FilePolicyProvider>().Check());
        return problems;
    }

    /// <summary>Writes <paramref name="problems"/> for an operator, one per line.</summary>
    public static void Report(IReadOnlyList<string> problems, TextWriter output, string heading = "The gateway cannot start")
    {
        output.WriteLine($"{heading}: {problems.Count} configuration problem{(problems.Count == 1 ? "" : "s")}.");
        foreach (var problem in problems)
        {
            output.WriteLine($"  - {problem}");
        }
    }
}
