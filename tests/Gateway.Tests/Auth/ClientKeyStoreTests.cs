using Gateway.Auth;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Auth;

public sealed class ClientKeyStoreTests
{
    private static ClientKeyStore Store(params ClientKeyOptions[] keys) =>
        new(Options.Create(new AuthOptions { Keys = [.. keys] }));

    [Fact]
    public void Find_ResolvesKeysToTeams()
    {
        var store = Store(new ClientKeyOptions { Key = "key-aaaaaaaaaaaaaaaa", Team = "a", Name = "ci" },
            new ClientKeyOptions { Key = "key-bbbbbbbbbbbbbbbb", Team = "b" });

        Assert.Equal(new ClientIdentity("ci", "a"), store.Find("key-aaaaaaaaaaaaaaaa"));
        Assert.Equal("b", store.Find("key-bbbbbbbbbbbbbbbb")!.Team);
        Assert.Null(store.Find("key-cccccccccccccccc"));
        Assert.Null(store.Find(""));
    }

    [Fact]
    public void UnnamedKey_GetsAnIdThatDoesNotRevealTheKey()
    {
        var identity = Store(new ClientKeyOptions { Key = "secret-secret-secret", Team = "t" }).Find("secret-secret-secret")!;
        Assert.Matches("^key-[0-9a-f]{8}$", identity.KeyId);
        Assert.DoesNotContain("secret", identity.KeyId, StringComparison.Ordinal);
    }
}
