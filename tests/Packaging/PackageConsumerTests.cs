using Pipelines.Packaging.Tests.Support;

namespace Pipelines.Packaging.Tests;

/// <summary>
/// The packages as a user meets them: packed from this build into a local folder, then referenced from that folder only
/// by a brand-new C# console app and a brand-new F# script outside the repository (their other dependencies, such as
/// Microsoft.ML, from the configured registry). Each trains a tiny chain, stock ML.NET <c>MapValueToKey</c> + our BPE + six
/// fine-tuning steps, saves it with <c>Model.Save</c>, loads it with <c>Model.Load</c> and predicts through a prediction
/// engine. The C# app loads the model in a second process, which needs the <c>LoadableClass</c> attributes that the
/// weaver (tools/ModelLoaderWeaver) adds: it passes only if the packed Pipelines.Estimators.dll is the woven one.
/// </summary>
[TestClass]
[TestCategory("Slow")]
public sealed class PackageConsumerTests
{
    private static PackedPackages? packages;

    public TestContext TestContext { get; set; } = null!;

    private static PackedPackages Packages => packages ?? throw new InvalidOperationException("Not packed.");

    [ClassInitialize]
    public static void PackOnce(TestContext context)
    {
        packages = PackedPackages.Pack();
        context.WriteLine($"dotnet pack --no-build of {PackedPackages.Ids.Length} packages: {packages.PackTime.TotalSeconds:F1} s");
    }

    [ClassCleanup]
    public static void DeletePackages() => packages?.Dispose();

    [TestMethod]
    public void ConsoleAppTrainsSavesAndReloadsOnTheManagedEngine()
    {
        var (trained, reloaded) = RunConsoleApp("managed", ["Pipelines.Estimators"], defineTorchSharp: false);
        Assert.Contains("classifier ManagedClassifier", trained.Output);
        ConsumerPrediction.AssertSame(ConsumerPrediction.Parse(trained.Output, "trained"), ConsumerPrediction.Parse(reloaded.Output, "reloaded"), 0f, trained.Transcript + reloaded.Transcript);
    }

    [TestMethod]
    public void ConsoleAppTrainsOnTheTorchSharpCpuBackendAndReloadsOntoTheManagedEngine()
    {
        // The app picks the runtime; on Debian 12 it loads only thanks to the GLIBCXX fix the TorchSharp package ships.
        var (trained, reloaded) = RunConsoleApp("torchsharp", ["Pipelines.Estimators", "Pipelines.Components.TorchSharp"], defineTorchSharp: true);
        Assert.Contains("classifier TorchClassifier", trained.Output, trained.Transcript);
        Assert.Contains("classifier ManagedClassifier", reloaded.Output, reloaded.Transcript);
        // libtorch and the managed engine agree within 1e-4 relative (tests/Components.TorchSharp).
        ConsumerPrediction.AssertSame(ConsumerPrediction.Parse(trained.Output, "trained"), ConsumerPrediction.Parse(reloaded.Output, "reloaded"), 1e-4f, trained.Transcript + reloaded.Transcript);
    }

    [TestMethod]
    public void FSharpScriptReferencesThePackagesWithNuGetDirectivesAndRunsTheChain()
    {
        var directory = Packages.NewConsumerDirectory("fsharp-script");
        var script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Apps", "Consumer.fsx"))
            .Replace("PACKAGES_FOLDER", Packages.Source, StringComparison.Ordinal)
            .Replace("PACKAGES_VERSION", Packages.Version, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(directory, "Consumer.fsx"), script);

        var run = DotnetCommand.Run(directory, Packages.Environment, "fsi", "Consumer.fsx");
        TestContext.WriteLine($"dotnet fsi (restore, compile, train, save, load, predict): {run.Elapsed.TotalSeconds:F1} s");
        Assert.AreEqual(0, run.ExitCode, run.Transcript);
        ConsumerPrediction.AssertSame(ConsumerPrediction.Parse(run.Output, "trained"), ConsumerPrediction.Parse(run.Output, "reloaded"), 0f, run.Transcript);
        AssertRestoredFromTheLocalFolder(["Pipelines.Estimators", "Pipelines.Scripts"]);
    }

    /// <summary>Writes the app (Apps/Program.cs and a new project file), builds it, trains in one process and predicts in another.</summary>
    private (DotnetResult Trained, DotnetResult Reloaded) RunConsoleApp(string name, string[] packageIds, bool defineTorchSharp)
    {
        var directory = Packages.NewConsumerDirectory($"console-{name}");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Apps", "Program.cs"), Path.Combine(directory, "Program.cs"));
        File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), ConsumerProject(packageIds, defineTorchSharp));
        File.WriteAllText(Path.Combine(directory, "nuget.config"), LocalSourceConfiguration());

        var build = DotnetCommand.Run(directory, Packages.Environment, "build", "-c", "Release");
        TestContext.WriteLine($"{name}: dotnet build (restore included) {build.Elapsed.TotalSeconds:F1} s");
        Assert.AreEqual(0, build.ExitCode, build.Transcript);
        var application = Path.Combine(directory, "bin", "Release", "net10.0", "Consumer.dll");
        var model = Path.Combine(directory, "model.zip");
        var trained = DotnetCommand.Run(directory, Packages.Environment, application, "train", model);
        Assert.AreEqual(0, trained.ExitCode, trained.Transcript);
        var reloaded = DotnetCommand.Run(directory, Packages.Environment, application, "predict", model);
        Assert.AreEqual(0, reloaded.ExitCode, reloaded.Transcript);
        TestContext.WriteLine($"{name}: train + save {trained.Elapsed.TotalSeconds:F1} s, load + predict in a new process {reloaded.Elapsed.TotalSeconds:F1} s");
        AssertRestoredFromTheLocalFolder(packageIds);
        return (trained, reloaded);
    }

    /// <summary>Our packages came into the private NuGet folder, at this run's version (so from the local source).</summary>
    private static void AssertRestoredFromTheLocalFolder(string[] packageIds)
    {
        foreach (var id in packageIds)
        {
            var restored = Path.Combine(Packages.Environment["NUGET_PACKAGES"]!, id.ToLowerInvariant(), Packages.Version.ToLowerInvariant());
            Assert.IsTrue(Directory.Exists(restored), $"{id} {Packages.Version} was not restored into {restored}.");
        }
    }

    private string ConsumerProject(string[] packageIds, bool defineTorchSharp)
    {
        var references = packageIds.Select(id => $"""    <PackageReference Include="{id}" Version="{Packages.Version}" />""").ToList();
        if (defineTorchSharp) references.Add("""    <PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />""");
        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <DefineConstants>$(DefineConstants){(defineTorchSharp ? ";TORCHSHARP" : "")}</DefineConstants>
              </PropertyGroup>
              <ItemGroup>
            {string.Join('\n', references)}
              </ItemGroup>
            </Project>
            """;
    }

    /// <summary>The user's configured sources plus the local folder (no clear: Microsoft.ML and the rest restore as usual).</summary>
    private string LocalSourceConfiguration() => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <add key="pipelines-local" value="{Packages.Source}" />
          </packageSources>
        </configuration>
        """;
}
