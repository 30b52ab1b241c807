using Gateway.Routing;

namespace Gateway.Tests.Routing;

public sealed class RequestIdsTests
{
    [Fact]
    public void Next_IsUniqueSortableAndFixedLength()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => RequestIds.Next()).ToArray();

        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^req_[0-9a-f]{32}$", id));
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal)); // time, then the counter, in hex: generation order
    }
}
