using Pipelines.Tests.Support;

namespace Pipelines.Packaging.Tests.Support;

/// <summary>
/// This build's four packages, packed once per test run into a temporary folder outside the repository, with a version
/// of this run's own (<c>0.0.0-packagetest.&lt;id&gt;</c>), and the environment under which a consumer restores them.
/// </summary>
/// <remarks>
/// The consumer's NuGet folder (<c>NUGET_PACKAGES</c>) is a private one under the same temporary root, deleted with it,
/// so the user's global packages folder never receives a copy of our packages; the global folder stays a read-only
/// fallback (<c>NUGET_FALLBACK_PACKAGES</c>), so Microsoft.ML, TorchSharp and libtorch are not copied or downloaded
/// again (what the private folder gains is our packages, about 3 MB, and whatever the global folder lacks).
/// </remarks>
internal sealed class PackedPackages : IDisposable
{
    /// <summary>The packages the test packs, by id.</summary>
    public static readonly string[] Ids = ["Pipelines.Components", "Pipelines.Components.TorchSharp", "Pipelines.Estimators", "Pipelines.Scripts"];

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private PackedPackages(string root, string version, TimeSpan packTime, string globalPackagesFolder)
    {
        Root = root;
        Version = version;
        PackTime = packTime;
        Environment = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = Path.Combine(root, "nuget-packages"),
            ["NUGET_FALLBACK_PACKAGES"] = globalPackagesFolder,
        };
    }

    /// <summary>The temporary root: <c>packages/</c> (the local source), <c>nuget-packages/</c>, and one folder per consumer.</summary>
    public string Root { get; }

    /// <summary>The local package source, the folder the packages were packed into.</summary>
    public string Source => Path.Combine(Root, "packages");

    /// <summary>The version every package of the set was packed with.</summary>
    public string Version { get; }

    /// <summary>How long <c>dotnet pack</c> took.</summary>
    public TimeSpan PackTime { get; }

    /// <summary>The variables a consumer's <c>dotnet</c> commands run with.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }

    /// <summary>Packs the already built projects (<c>--no-build</c>, this test assembly's configuration).</summary>
    /// <exception cref="AssertFailedException">The pack failed or a package is missing.</exception>
    public static PackedPackages Pack()
    {
        var root = Directory.CreateTempSubdirectory("pipelines-packaging-").FullName;
        var version = $"0.0.0-packagetest.{Guid.NewGuid():N}"[..30];
        var global = DotnetCommand.Run(root, new Dictionary<string, string?>(), "nuget", "locals", "global-packages", "--list");
        Assert.AreEqual(0, global.ExitCode, global.Transcript);
        var globalPackagesFolder = global.Output.Trim().Split(": ", 2)[1].Trim();

        var packed = DotnetCommand.Run(RepositoryRoot.FullName, new Dictionary<string, string?>(), "pack", "Pipelines.sln", "--no-build",
            "-c", Configuration, "-o", Path.Combine(root, "packages"), $"-p:Version={version}");
        Assert.AreEqual(0, packed.ExitCode, packed.Transcript);
        var packages = new PackedPackages(root, version, packed.Elapsed, globalPackagesFolder);
        foreach (var id in Ids)
        {
            Assert.IsTrue(File.Exists(Path.Combine(packages.Source, $"{id}.{version}.nupkg")), $"{id} was not packed:\n{packed.Transcript}");
            Assert.IsTrue(File.Exists(Path.Combine(packages.Source, $"{id}.{version}.snupkg")), $"{id} has no symbol package:\n{packed.Transcript}");
        }
        return packages;
    }

    /// <summary>A new empty folder under the root for one consumer.</summary>
    public string NewConsumerDirectory(string name) => Directory.CreateDirectory(Path.Combine(Root, name)).FullName;

    /// <summary>Deletes the root, and the resolution records <c>dotnet fsi</c> keeps of scripts that used it.</summary>
    public void Dispose()
    {
        var fsiCache = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".packagemanagement", "nuget", "Cache");
        if (Directory.Exists(fsiCache))
            foreach (var record in Directory.EnumerateFiles(fsiCache))
                if (File.ReadAllText(record).Contains(Root, StringComparison.Ordinal)) File.Delete(record);
        Directory.Delete(Root, recursive: true);
    }
}
