using System.Collections.Concurrent;

namespace Gateway.Testing;

/// <summary>
/// Temporary folders for tests, all deleted when the test process exits (a test run leaves nothing in /tmp).
/// Tests that need a folder gone sooner delete it themselves; a folder still in use at exit is skipped.
/// </summary>
internal static class TestFolders
{
    private static readonly ConcurrentBag<string> Created = [];

    static TestFolders() => AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteAll();

    public static DirectoryInfo Create(string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix);
        Created.Add(folder.FullName);
        return folder;
    }

    private static void DeleteAll()
    {
        foreach (var folder in Created)
        {
            try
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Still held by something; the OS cleans /tmp eventually.
            }
        }
    }
}
