using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Gateway.Auth;

/// <summary>
/// Resolves client keys to identities. Keys are held only as SHA-256 hashes, so neither memory dumps
/// nor logs of this type reveal them.
/// </summary>
public sealed class ClientKeyStore
{
    private readonly FrozenDictionary<string, ClientIdentity> _byHash;

    public ClientKeyStore(IOptions<AuthOptions> options)
    {
        var byHash = new Dictionary<string, ClientIdentity>(StringComparer.Ordinal);
        foreach (var key in options.Value.Keys.Where(k => !string.IsNullOrEmpty(k.Key)))
        {
            var hash = Hash(key.Key);
            byHash[hash] = new ClientIdentity(string.IsNullOrWhiteSpace(key.Name) ? $"key-{hash[..8]}" : key.Name, key.Team);
        }

        _byHash = byHash.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public int Count => _byHash.Count;

    public ClientIdentity? Find(ReadOnlySpan<char> key) =>
        key.IsEmpty ? null : _byHash.GetValueOrDefault(Hash(key));

    internal static string Hash(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = key.Length <= 256 ? stackalloc byte[key.Length * 3] : new byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var written = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..written], digest);
        return Convert.ToHexStringLower(digest);
    }
}
