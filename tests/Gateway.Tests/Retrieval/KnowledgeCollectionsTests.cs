using Gateway.Retrieval;

namespace Gateway.Tests.Retrieval;

public sealed class KnowledgeCollectionsTests
{
    [Theory]
    [InlineData("hr", true)]
    [InlineData("hr-policies_2026", true)]
    [InlineData("abc\n", false)] // '$' would match before a final newline; the name then breaks the Location header
    [InlineData("abc\r\n", false)]
    [InlineData("\nabc", false)]
    [InlineData("Abc", false)]
    [InlineData("-abc", false)]
    [InlineData("", false)]
    public void IsValidName_MatchesTheWholeName(string name, bool valid) =>
        Assert.Equal(valid, KnowledgeCollections.IsValidName(name));
}
