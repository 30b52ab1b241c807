using System.Text.Json;

namespace Gateway.Benchmarks;

internal static class Prompts
{
    public static string BundledModel => Path.Combine(AppContext.BaseDirectory, "models", "classifier", "classifier.onnx");

    /// <summary>A realistic 2 KB user turn: an instruction over a pasted document.</summary>
    public static readonly string TwoKilobytes = MakeTwoKilobytes();

    // Distinct sentences, no repetition: merged duplicate features would flatter a repeated paragraph.
    private static string MakeTwoKilobytes() =>
        ("Summarise the following report in three bullet points and list every action item with an owner if one is named.\n\n" +
        "Incident report: on 3 February at 14:05 UTC a configuration change disabled TLS on the edge load balancer for EU traffic. " +
        "Error rates reached 35% for 22 minutes and the change was rolled back at 14:27 by the on-call engineer, Priya Shah. " +
        "Root cause: the deploy pipeline accepted a listener block without a certificate reference, because schema validation " +
        "ran only for the US region. Customer impact: checkout failures for roughly 18,000 sessions, mostly in Germany and France; " +
        "support received 412 tickets and the status page was updated four minutes after the first alert. " +
        "Timeline: 14:05 change merged; 14:07 synthetic checks red; 14:09 pager fired; 14:15 incident channel opened; " +
        "14:21 suspect change identified by diffing the rendered config; 14:27 rollback complete; 14:40 error rates normal. " +
        "What went well: alerting was fast and the rollback was a single command. What went badly: the change had one approval, " +
        "the canary stage was skipped because the pipeline marks edge changes as low risk, and the runbook pointed to a retired dashboard. " +
        "Action items: (1) add config linting for every region before merge, owner Tom Becker, due 17 February; " +
        "(2) require two approvals for edge changes, owner Maria Lopez; (3) restore the canary stage for edge deploys; " +
        "(4) update the runbook links and delete the retired dashboard, owner Chen Wei; (5) review the risk labels in the pipeline. " +
        "Open questions: should TLS changes page the network team directly, and do we need a regional kill switch for checkout? " +
        "Finance asked for an estimate of refunded orders by Friday; legal confirmed no personal data was exposed during the window. " +
        "Next review: 24 February with the platform and payments teams, chaired by the head of infrastructure. " +
        "Appendix: the affected listeners were eu-edge-1 through eu-edge-4; the US and APAC regions were unaffected because their " +
        "configs were rendered from an older template. Monitoring gaps: no alert on handshake failures, only on HTTP 5xx rates.")[..2048];

    public static byte[] Request(string user) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        model = "auto",
        messages = new object[]
        {
            new { role = "system", content = "You are a helpful assistant." },
            new { role = "user", content = user },
        },
    });
}
