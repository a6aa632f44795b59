using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Pipelines.Estimators.Tests.Scripts;

/// <summary>
/// Runs the F# scripts with <c>dotnet fsi</c> as a child process, so they cannot rot: the spam fine-tuning experiment
/// and the Brown pre-training experiments end to end on the tiny budget, and the checks of the Pipelines.Scripts helpers.
/// </summary>
/// <remarks>
/// This project builds <c>src/Scripts</c> first (a project reference that does not reference its assembly), which
/// refreshes <c>src/Scripts/bin/fsi/</c>, the directory the scripts' prelude references, in the configuration under test.
/// </remarks>
[TestClass]
public sealed partial class FsxScriptTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [TestMethod]
    public void FineTuneSpamRunsOnTheTinyBudgetAndWritesItsReports()
    {
        RunExperiment("finetune_spam.fsx", ["sweep.csv", "history.csv", "loss-curves.svg", "confusion.svg"], (run, output) =>
        {
            Assert.MatchesRegex(ClassifierMetricLine(), run.Output, run.Describe());
            var sweep = File.ReadAllLines(Path.Combine(output, "sweep.csv"));
            Assert.AreEqual("LearningRate,Accuracy,MacroF1,LogLoss,FinalTrainingLoss,Steps,Seconds", sweep[0]);
            Assert.HasCount(3, sweep, "a header and one row per learning rate of the tiny budget");
            foreach (var row in sweep.Skip(1))
            {
                var accuracy = double.Parse(row.Split(',')[1], CultureInfo.InvariantCulture);
                Assert.IsTrue(accuracy is >= 0 and <= 1, $"accuracy {accuracy} in '{row}'");
            }
        });
    }

    [TestMethod]
    public void PretrainBrownRunsOnTheTinyBudgetAndWritesItsReports()
    {
        RunExperiment("pretrain_brown.fsx", ["summary.csv", "history.csv", "loss-curve.svg", "samples.txt"], (run, output) =>
        {
            Assert.MatchesRegex(LanguageModelMetricLine(), run.Output, run.Describe());
            var summary = File.ReadAllLines(Path.Combine(output, "summary.csv"));
            Assert.HasCount(2, summary);
            var columns = summary[0].Split(',');
            var values = summary[1].Split(',');
            double Value(string column) => double.Parse(values[Array.IndexOf(columns, column)], CultureInfo.InvariantCulture);
            Assert.IsTrue(Value("BitsPerByte") > 0 && Value("BitsPerByte") < Value("UnigramBitsPerByte") + 1, summary[1]);
            Assert.HasCount(3, File.ReadAllLines(Path.Combine(output, "samples.txt")), "one continuation per prompt");
        });
    }

    [TestMethod]
    public void TheLibraryChecksPass()
    {
        var run = RunScript(Path.Combine("tests", "Estimators", "Scripts", "library_checks.fsx"), outputDirectory: null);

        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "0 check(s) failed", run.Describe());
    }

    [GeneratedRegex(@"accuracy \d+(\.\d+)? % \| macro-F1 \d\.\d{4} \| log-loss \d+\.\d{4}")]
    private static partial Regex ClassifierMetricLine();

    [GeneratedRegex(@"validation: loss \d+\.\d{4} nats/token \| perplexity \d+\.\d \| \d+\.\d{4} bits/byte")]
    private static partial Regex LanguageModelMetricLine();

    /// <summary>Runs an experiment into a temporary directory, checks its exit code and files, then <paramref name="check"/>s the rest.</summary>
    private static void RunExperiment(string script, string[] expectedFiles, Action<ScriptRun, string> check)
    {
        var output = Directory.CreateTempSubdirectory(Path.GetFileNameWithoutExtension(script) + "-").FullName;
        try
        {
            var run = RunScript(Path.Combine("src", "Scripts", "experiments", script), output);
            Console.WriteLine($"{script}: exit code {run.ExitCode} after {run.Elapsed.TotalSeconds:F1} s");

            Assert.AreEqual(0, run.ExitCode, run.Describe());
            foreach (var file in expectedFiles)
            {
                var path = Path.Combine(output, file);
                Assert.IsTrue(File.Exists(path) && new FileInfo(path).Length > 0, $"{file} was not written.\n{run.Describe()}");
                if (file.EndsWith(".svg", StringComparison.Ordinal))
                    StringAssert.StartsWith(File.ReadAllText(path), "<svg", $"{file} is not an SVG document");
            }

            check(run, output);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private sealed record ScriptRun(int ExitCode, string Output, string Error, TimeSpan Elapsed)
    {
        public string Describe() => $"exit code {ExitCode} after {Elapsed.TotalSeconds:F1} s\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }

    /// <summary>Runs <c>dotnet fsi</c> on a script of the repository on the tiny budget, writing to <paramref name="outputDirectory"/>.</summary>
    private static ScriptRun RunScript(string relativePath, string? outputDirectory)
    {
        var root = RepositoryRoot();
        var script = Path.Combine(root, relativePath);
        Assert.IsTrue(File.Exists(script), $"{script} is missing");
        var start = new ProcessStartInfo(DotnetHost(), ["fsi", "--quiet", script])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PIPELINES_BUDGET"] = "tiny";
        if (outputDirectory is not null) start.Environment["PIPELINES_OUTPUT"] = outputDirectory;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) lock (output) output.AppendLine(line.Data); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) lock (error) error.AppendLine(line.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{relativePath} did not finish within {Timeout.TotalMinutes} minutes.\n--- stdout\n{output}\n--- stderr\n{error}");
        }

        process.WaitForExit(); // drains the asynchronous readers
        return new ScriptRun(process.ExitCode, output.ToString(), error.ToString(), clock.Elapsed);
    }

    /// <summary>The dotnet executable running the tests (set by the test host), else the one on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Pipelines.sln"))) return directory.FullName;
        }

        throw new InvalidOperationException($"No Pipelines.sln above {AppContext.BaseDirectory}.");
    }
}
