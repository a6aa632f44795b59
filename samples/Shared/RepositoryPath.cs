namespace Pipelines.Samples;

/// <summary>Finds the repository's files from wherever the sample runs.</summary>
internal static class RepositoryPath
{
    /// <summary>Finds <paramref name="relativePath"/> under the current directory or one of its parents, or those of the executable.</summary>
    /// <exception cref="DirectoryNotFoundException">Not found: the sample runs outside the repository.</exception>
    public static string Find(string relativePath)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, relativePath);
                if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
            }
        }

        throw new DirectoryNotFoundException($"Cannot find '{relativePath}' above the current directory; run the sample from inside the repository.");
    }
}
