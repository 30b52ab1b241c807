using Gateway.Retrieval;
using Gateway.Tests.Spend;

namespace Gateway.Tests.Retrieval;

/// <summary>
/// Retrieval with the real all-MiniLM-L6-v2 on a small handbook written for this test: every
/// question has one document that answers it, in different words than the question.
/// </summary>
public sealed class RetrievalQualityTests
{
    private static readonly (string Id, string Title, string Text)[] Documents =
    [
        ("leave", "Annual leave", "Employees receive 28 days of paid holiday per year, including public holidays. Unused days, up to five, carry over to the first quarter of the next year. Holiday requests go through the HR portal at least two weeks ahead; your manager approves them."),
        ("parental", "Parental leave", "Birth parents get 26 weeks of leave on full pay, partners get 12 weeks. Adoption counts the same as birth. Leave can be split into up to three blocks within the first year. Tell HR at least eight weeks before the leave starts."),
        ("expenses", "Expenses and travel", "Book trains and flights through the travel desk; economy class for trips under six hours. Meals are reimbursed up to 45 euros a day with receipts. Submit expense claims within 30 days in the finance app; claims over 500 euros need a director's sign-off."),
        ("security", "Information security", "Use the password manager for every work account and turn on two-factor authentication. Report lost laptops or phones to the security team within one hour, day or night, on the incident hotline. Never paste customer data into external tools."),
        ("oncall", "On-call rotation", "Engineers join the on-call rotation after three months. A shift lasts one week, Monday to Monday. You are paid a flat 300 euros per week on call plus time off in lieu for every night you are paged. Hand over open incidents in writing."),
        ("equipment", "Laptops and equipment", "New starters choose a 14-inch MacBook Pro or a ThinkPad X1. Laptops are replaced every three years. Monitors, keyboards and chairs for home offices are covered up to 600 euros once; order them through the IT shop."),
        ("offices", "Offices", "The Berlin office is at Torstrasse 120 and is open 7am to 8pm. The Lisbon office is in Avenida da Liberdade 50. Visitors must be registered at reception the day before. Bicycle parking is in the courtyard of both offices."),
        ("pension", "Pension and benefits", "The company matches pension contributions up to 5 percent of salary. Everyone gets private health insurance, a yearly 1,000 euro learning budget for books and courses, and a public transport pass."),
    ];

    private static readonly (string Question, string Answer)[] Questions =
    [
        ("How many vacation days do I get each year?", "leave"),
        ("Can I move unused holiday into next year?", "leave"),
        ("How long is maternity leave?", "parental"),
        ("What do fathers or partners get when a baby arrives?", "parental"),
        ("What is the daily limit for food on a business trip?", "expenses"),
        ("Who has to approve a large expense claim?", "expenses"),
        ("I lost my work phone, what should I do?", "security"),
        ("Is multi-factor login required?", "security"),
        ("How much extra pay for being on call?", "oncall"),
        ("When can a new engineer start doing on-call shifts?", "oncall"),
        ("Which laptop models can I pick?", "equipment"),
        ("Is there a budget for a desk chair at home?", "equipment"),
        ("What is the address of the Berlin office?", "offices"),
        ("Where can I park my bike?", "offices"),
        ("Does the company contribute to my retirement savings?", "pension"),
        ("Is there money for training courses?", "pension"),
    ];

    [Fact]
    public async Task RecallAt3_IsAtLeast90Percent_WithTheRealMiniLm()
    {
        await using var db = await TestDatabase.CreateAsync(Gateway.Hosting.LedgerOptions.Sqlite);
        using var embedder = new MiniLmEmbedder();
        using var knowledge = new KnowledgeBase(db.Database, embedder, TimeProvider.System);
        foreach (var (id, title, text) in Documents)
        {
            await knowledge.IngestAsync("handbook", id, title, "handbook.md", text, CancellationToken.None);
        }

        var hits = 0;
        var misses = new List<string>();
        foreach (var (question, answer) in Questions)
        {
            var results = await knowledge.SearchAsync("handbook", question, 3, -1f, CancellationToken.None);
            if (results.Any(r => r.Chunk.DocumentId == answer))
            {
                hits++;
            }
            else
            {
                misses.Add($"{question} → {string.Join(", ", results.Select(r => r.Chunk.DocumentId))}");
            }
        }

        var recall = hits / (double)Questions.Length;
        Assert.True(recall >= 0.9, $"recall@3 {recall:P0}; missed: {string.Join("; ", misses)}");
    }

    [Fact]
    public async Task Embeddings_AreNormalised_AndSimilarTextScoresHigher()
    {
        using var embedder = new MiniLmEmbedder();

        var cat = embedder.Embed("The cat sits on the mat.");
        var kitten = embedder.Embed("A kitten is resting on a rug.");
        var tax = embedder.Embed("Quarterly VAT returns are due in April.");

        Assert.Equal(MiniLmEmbedder.Dimensions, cat.Length);
        Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(cat), 3);
        Assert.True(System.Numerics.Tensors.TensorPrimitives.Dot(cat, kitten) > System.Numerics.Tensors.TensorPrimitives.Dot(cat, tax) + 0.2f);
    }

    [Fact]
    public async Task Reingest_ReplacesTheDocumentsChunks_AndDeleteRemovesThem()
    {
        await using var db = await TestDatabase.CreateAsync(Gateway.Hosting.LedgerOptions.Sqlite);
        using var embedder = new MiniLmEmbedder();
        using var knowledge = new KnowledgeBase(db.Database, embedder, TimeProvider.System);

        await knowledge.IngestAsync("kb", "doc", "Doc", null, "The office opens at nine.", CancellationToken.None);
        await knowledge.IngestAsync("kb", "doc", "Doc", null, "The canteen serves lunch from noon.", CancellationToken.None);

        var results = await knowledge.SearchAsync("kb", "when is lunch", 5, -1f, CancellationToken.None);
        Assert.Single(results);
        Assert.Contains("canteen", results[0].Chunk.Text, StringComparison.Ordinal);
        Assert.Single((await knowledge.ListAsync("kb", CancellationToken.None))!);

        Assert.True(await knowledge.DeleteAsync("kb", "doc", CancellationToken.None));
        Assert.Empty(await knowledge.SearchAsync("kb", "when is lunch", 5, -1f, CancellationToken.None));
        Assert.Null(await knowledge.ListAsync("kb", CancellationToken.None));

        // A fresh instance reads the same state back from the database.
        using var reopened = new KnowledgeBase(db.Database, embedder, TimeProvider.System);
        Assert.Empty(await reopened.SearchAsync("kb", "when is lunch", 5, -1f, CancellationToken.None));
    }
}
