namespace Pipelines.Tests.Support;

/// <summary>
/// The repository's root, the first directory above the test binary that holds <c>Pipelines.sln</c>, for tests that read
/// shipped data, fixtures or scripts. Compiled into both test projects (linked from tests/Components/Support).
/// </summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    /// <summary>The root's full path.</summary>
    /// <exception cref="DirectoryNotFoundException">No directory above the test binary holds <c>Pipelines.sln</c>.</exception>
    public static string FullName => Root.Value;

    /// <summary>A path below the root, such as <c>Combine("samples", "data", "brown")</c>.</summary>
    public static string Combine(params string[] parts) => Path.Combine([FullName, .. parts]);

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Pipelines.sln"))) return directory.FullName;
        throw new DirectoryNotFoundException($"No Pipelines.sln above {AppContext.BaseDirectory}.");
    }
}
