using System.Globalization;
using System.Xml.Linq;
using Gateway.Hosting;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Gateway.AdminConsole;

/// <summary>
/// The data-protection key ring (the keys that encrypt console session and anti-forgery cookies) kept in the gateway's
/// database instead of the machine's profile, so every replica that shares the database (PostgreSQL) shares the ring:
/// a session signed in on one replica is valid on the others, and a restarted container keeps its users signed in.
/// Keys are stored as ASP.NET Core writes them (unencrypted XML, as with its file and EF stores): whoever can read the
/// database could forge a console cookie, which still names a key that every page re-checks (<see cref="ConsoleAuth"/>).
/// </summary>
public sealed class DatabaseKeyRing(GatewayDatabase database, TimeProvider time) : IXmlRepository
{
    internal static readonly SchemaMigration[] Migrations = [new(7, "data_protection_keys", (change, ct) => change.ExecuteAsync(Schema, ct))];

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS data_protection_keys (
            name TEXT PRIMARY KEY,
            xml TEXT NOT NULL,
            created_at TEXT NOT NULL);
        """;

    // IXmlRepository is synchronous; the key ring is read once and then about daily, so the database's async calls
    // are waited on here (off the caller's synchronization context).
    public IReadOnlyCollection<XElement> GetAllElements() => Task.Run(ReadAsync).GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) => Task.Run(() => WriteAsync(element, friendlyName)).GetAwaiter().GetResult();

    private async Task<IReadOnlyCollection<XElement>> ReadAsync()
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT xml FROM data_protection_keys ORDER BY created_at, name";
        await using var reader = await command.ExecuteReaderAsync();
        var elements = new List<XElement>();
        while (await reader.ReadAsync())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }

        return elements;
    }

    private async Task WriteAsync(XElement element, string friendlyName)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        // Names are unique per key ("key-<guid>"); a replica writing the same name twice changes nothing.
        command.CommandText = "INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@name, @xml, @at) ON CONFLICT (name) DO NOTHING";
        command.With("@name", friendlyName)
            .With("@xml", element.ToString(SaveOptions.DisableFormatting))
            .With("@at", time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync();
    }
}
