using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gateway.AdminConsole;

/// <summary>A validation error placed in the document: its path, its message and the line it points at (0: none found).</summary>
public sealed record PolicyErrorLine(string Path, string Message, int Line);

/// <summary>
/// Finds the line each validation error points at. Errors read <c>routes.frontier.price.input_per_mtok: must be &gt;= 0</c>
/// or <c>rules[2] (cheap-code).when.category: …</c>; the path is walked through the YAML document (mapping keys, sequence
/// indexes) to the deepest node that exists. Syntax errors already carry <c>line L, column C</c>.
/// </summary>
public static partial class PolicyErrorLines
{
    public static IReadOnlyList<PolicyErrorLine> Locate(string document, IReadOnlyList<string> errors)
    {
        YamlNode? root = null;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(document));
            root = stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null;
        }
        catch (YamlException)
        {
            // A syntax error: its message has the line.
        }

        return errors.Select(error => Locate(root, error)).ToList();
    }

    private static PolicyErrorLine Locate(YamlNode? root, string error)
    {
        if (SyntaxLine().Match(error) is { Success: true } syntax)
        {
            return new PolicyErrorLine("", error, int.Parse(syntax.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        var colon = error.IndexOf(": ", StringComparison.Ordinal);
        if (colon <= 0)
        {
            return new PolicyErrorLine("", error, 0);
        }

        var path = error[..colon];
        var message = error[(colon + 2)..];
        var node = root;
        var line = 0;
        foreach (var part in path.Split('.'))
        {
            var segment = Segment().Match(part);
            if (!segment.Success || node is null)
            {
                break;
            }

            node = node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(segment.Groups["key"].Value), out var child) ? child : null;
            foreach (Capture index in segment.Groups["index"].Captures)
            {
                var i = int.Parse(index.Value, CultureInfo.InvariantCulture);
                node = node is YamlSequenceNode list && i < list.Children.Count ? list.Children[i] : null;
            }

            if (node is null)
            {
                break;
            }

            line = (int)node.Start.Line;
        }

        return new PolicyErrorLine(path, message, line);
    }

    [GeneratedRegex(@"^line (\d+), column \d+:")]
    private static partial Regex SyntaxLine();

    [GeneratedRegex(@"^(?<key>[^\[\s]+)(\[(?<index>\d+)\])*( \(.*\))?$")]
    private static partial Regex Segment();
}
