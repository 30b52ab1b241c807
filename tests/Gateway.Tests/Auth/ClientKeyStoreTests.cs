using Gateway.Auth;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Auth;

public sealed class ClientKeyStoreTests
{
    private static ClientKeyStore Store(params ClientKeyOptions[] keys)
    {
        var options = Options.Create(new AuthOptions { Keys = [.. keys] });
        // No runtime keys loaded: the store answers from the static keys alone, without touching the database.
        var database = new Gateway.Hosting.GatewayDatabase(Options.Create(new Gateway.Hosting.LedgerOptions { ConnectionString = "Data Source=:memory:" }));
        return new(options, new VirtualKeyStore(database, options, TimeProvider.System));
    }

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
