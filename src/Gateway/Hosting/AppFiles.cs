namespace Gateway.Hosting;

/// <summary>Resolves the relative paths of files admins edit (policies, models).</summary>
internal static class AppFiles
{
    /// <summary>
    /// A rooted path as is; a relative one against the working directory (the repository, under
    /// <c>dotnet run</c>), then the content root, then the application folder (where the shipped
    /// files are copied at build time). The first that exists wins; else the working-directory path.
    /// </summary>
    public static string Resolve(string path, string contentRoot)
    {
        if (Path.IsPathRooted(path))
        {
            return path;
        }

        foreach (var root in new[] { Directory.GetCurrentDirectory(), contentRoot, AppContext.BaseDirectory })
        {
            var candidate = Path.Combine(root, path);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.GetFullPath(path);
    }
}
