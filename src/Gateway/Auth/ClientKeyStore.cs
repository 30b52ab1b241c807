using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Gateway.Auth;

/// <summary>
/// Resolves client keys to identities: the static keys of <c>Auth:Keys</c> (held only as SHA-256 hashes, so neither
/// memory dumps nor logs of this type reveal them), then the keys created at runtime (<see cref="VirtualKeyStore"/>).
/// </summary>
public sealed class ClientKeyStore
{
    private readonly FrozenDictionary<string, ClientIdentity> _byHash;
    private readonly FrozenSet<string> _names;
    private readonly VirtualKeyStore _virtualKeys;

    public ClientKeyStore(IOptions<AuthOptions> options, VirtualKeyStore virtualKeys)
    {
        _virtualKeys = virtualKeys;
        var byHash = new Dictionary<string, ClientIdentity>(StringComparer.Ordinal);
        foreach (var key in options.Value.Keys.Where(k => !string.IsNullOrEmpty(k.Key)))
        {
            var hash = Hash(key.Key);
            byHash[hash] = new ClientIdentity(string.IsNullOrWhiteSpace(key.Name) ? $"key-{hash[..8]}" : key.Name, key.Team,
                RpmLimit: key.RpmLimit, TpmLimit: key.TpmLimit);
        }

        _byHash = byHash.ToFrozenDictionary(StringComparer.Ordinal);
        _names = _byHash.Values.Select(i => i.KeyId).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Static keys plus runtime keys (any status).</summary>
    public int Count => _byHash.Count + _virtualKeys.Count;

    /// <summary>Changes when runtime keys change: an identity cached per connection must be resolved again.</summary>
    public int Version => _virtualKeys.Version;

    public bool HasName(string name) => _names.Contains(name);

    public ClientIdentity? Find(ReadOnlySpan<char> key) => Resolve(key)?.Identity;

    /// <summary>The identity and, for a runtime key, when it stops being valid (expiry, or the end of a rotation's grace).</summary>
    public (ClientIdentity Identity, DateTimeOffset? ValidUntil)? Resolve(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty)
        {
            return null;
        }

        if (_virtualKeys.Find(key) is { } found)
        {
            if (found.Key.IsAdmin)
            {
                return null; // an admin key spends nothing: it has no team to bill
            }

            var models = found.Key.Models is { } list ? list.ToFrozenSet(StringComparer.Ordinal) : null;
            return (new ClientIdentity(found.Key.Name, found.Key.Team, models, found.Key.RpmLimit, found.Key.TpmLimit, found.Key.Budget), found.ValidUntil);
        }

        return _byHash.GetValueOrDefault(Hash(key)) is { } identity ? (identity, null) : null;
    }

    internal static string Hash(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = key.Length <= 256 ? stackalloc byte[key.Length * 3] : new byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var written = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..written], digest);
        return Convert.ToHexStringLower(digest);
    }
}
