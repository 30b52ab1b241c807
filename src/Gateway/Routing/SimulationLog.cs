using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Routing;

/// <summary>
/// Recent simulations by id (this replica, bounded, 24 hours), so that applying a policy can name the simulation that
/// checked it and its audit entry can keep the summary.
/// </summary>
public sealed class SimulationLog(TimeProvider timeProvider)
{
    private const int Capacity = 256;
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private readonly ConcurrentDictionary<string, (string PolicyVersion, string Summary, DateTimeOffset At)> _entries = new(StringComparer.Ordinal);

    /// <summary>Keeps <paramref name="result"/> and returns its id.</summary>
    public string Record(SimulationResult result, string? team)
    {
        var now = timeProvider.GetUtcNow();
        var key = string.Create(CultureInfo.InvariantCulture, $"{result.PolicyVersion}|{result.From:O}|{result.To:O}|{team}|{now:O}");
        var id = "sim_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{id}: {result.From:yyyy-MM-dd HH:mm}–{result.To:yyyy-MM-dd HH:mm} UTC{(team is null ? "" : $", team {team}")}: {result.Replayed} of {result.Rows} requests replayed, "
            + $"{result.RouteChanged} change route, cost ${result.SimulatedCostUsd:0.######} vs ${result.ActualCostUsd:0.######} actual, "
            + $"{result.Refused.Values.Sum()} refused, {result.BudgetsBreached.Count} budget(s) breached, expected quality {result.ExpectedQuality?.ToString("0.###", CultureInfo.InvariantCulture) ?? "n/a"}");
        _entries[id] = (result.PolicyVersion, summary, now);
        if (_entries.Count > Capacity)
        {
            foreach (var old in _entries.OrderBy(e => e.Value.At).Take(_entries.Count - Capacity))
            {
                _entries.TryRemove(old.Key, out _);
            }
        }

        return id;
    }

    /// <summary>The summary of simulation <paramref name="id"/> if it simulated <paramref name="policyVersion"/> recently, else null.</summary>
    public string? Find(string id, string policyVersion) =>
        _entries.TryGetValue(id, out var entry) && entry.PolicyVersion == policyVersion && timeProvider.GetUtcNow() - entry.At < Lifetime
            ? entry.Summary
            : null;
}
