using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Pipelines.Tests.Support;

namespace Pipelines.Estimators.Tests.Scripts;

/// <summary>
/// Runs the F# scripts with <c>dotnet fsi</c> as a child process, so they cannot rot: every experiment of
/// <c>src/Scripts/experiments</c> end to end on the tiny budget, and the checks of the Pipelines.Scripts helpers.
/// </summary>
/// <remarks>
/// This project builds <c>src/Scripts</c> first (a project reference that does not reference its assembly), which
/// refreshes <c>src/Scripts/bin/fsi/</c>, the directory the scripts' prelude references, in the configuration under test.
/// Each test starts <c>dotnet fsi</c> and trains small models, so they are marked slow (CI still runs them); the
/// group takes about a minute and a half on two cores.
/// </remarks>
[TestClass]
public sealed partial class FsxScriptTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>The eight bytes every PNG file starts with.</summary>
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [TestMethod]
    [TestCategory("Slow")]
    public void FineTuneSpamRunsOnTheTinyBudgetAndWritesItsReports()
    {
        RunExperiment("finetune_spam.fsx", ["sweep.csv", "history.csv", "loss-curves.svg", "loss-curves.png", "confusion.svg", "confusion.png"], (run, output) =>
        {
            Assert.MatchesRegex(ClassifierMetricLine(), run.Output, run.Describe());
            var sweep = File.ReadAllLines(Path.Combine(output, "sweep.csv"));
            Assert.AreEqual("LearningRate,Accuracy,MacroF1,LogLoss,Steps,Seconds,FinalTrainingLoss,BestValidationLoss", sweep[0]);
            Assert.HasCount(3, sweep, "a header and one row per learning rate of the tiny budget");
            var history = ReadCsv(Path.Combine(output, "history.csv"));
            foreach (var row in ReadCsv(Path.Combine(output, "sweep.csv")))
            {
                Assert.IsTrue(Number(row, "Accuracy") is >= 0 and <= 1, $"accuracy {row["Accuracy"]} at rate {row["LearningRate"]}");
                Assert.IsTrue(Number(row, "MacroF1") is >= 0 and <= 1, $"macro-F1 {row["MacroF1"]} at rate {row["LearningRate"]}");
                var steps = history.Where(step => step["LearningRate"] == row["LearningRate"]).ToList();
                Assert.HasCount((int)Number(row, "Steps"), steps, $"one history row per step at rate {row["LearningRate"]}");
                var validation = steps.Where(step => step["ValidationLoss"] != "").Select(step => Number(step, "ValidationLoss")).ToList();
                Assert.IsNotEmpty(validation, "validation losses are measured during the run");
                Assert.AreEqual(validation.Min(), Number(row, "BestValidationLoss"), 1e-9, "the sweep's best validation loss is the history's lowest");
            }
        });
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void PretrainBrownRunsOnTheTinyBudgetAndWritesItsReports()
    {
        RunExperiment("pretrain_brown.fsx", ["summary.csv", "history.csv", "loss-curve.svg", "loss-curve.png", "samples.txt"], (run, output) =>
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
    [TestCategory("Slow")]
    public void SparsePretrainingRunsOnTheTinyBudgetAndMatchesNbar()
    {
        string[] charts = ["loss-curves", "validation-loss", "parameters"];
        RunExperiment("sparse_pretraining.fsx", ["summary.csv", "history.csv", .. charts.Select(chart => chart + ".svg"), .. charts.Select(chart => chart + ".png")], (run, output) =>
        {
            Assert.MatchesRegex(SparseSummaryLine(), run.Output, run.Describe());
            var summary = ReadCsv(Path.Combine(output, "summary.csv"));
            CollectionAssert.AreEqual(new[] { "dense", "sparse-25-75", "early-0-50", "late-50-100" }, summary.Select(row => row["Run"]).ToArray());
            var dense = summary[0];
            var denseCount = Number(dense, "ParameterCount");
            Assert.AreEqual(denseCount, Number(dense, "AverageParameterCount"), "a dense run's Nbar is its N");
            foreach (var sparse in summary.Skip(1))
            {
                var label = $"{sparse["Run"]}: {string.Join(", ", sparse.Select(pair => $"{pair.Key} {pair.Value}"))}";
                Assert.IsTrue(Math.Abs(Number(sparse, "AverageParameterCount") / denseCount - 1) < 1e-3, $"Nbar does not match the dense N {denseCount}: {label}");
                Assert.IsTrue(Number(sparse, "ParameterCount") > denseCount, $"the sparse model is not the bigger one: {label}");
                Assert.IsTrue(Number(sparse, "FinalNonZeroCount") < denseCount, $"the sparse model does not end smaller than the dense one: {label}");
                Assert.IsTrue(Number(sparse, "FinalSparsity") is > 0 and < 1, label);
            }

            foreach (var row in summary)
            {
                Assert.IsTrue(Number(row, "FinalValidationLoss") is > 0 and < 10, $"{row["Run"]}: validation loss {row["FinalValidationLoss"]}");
                Assert.AreEqual(Number(row, "AverageParameterCount"), Number(row, "MeanNonZeroCount"), 1e-6 * denseCount, $"{row["Run"]}: the mean of N(t) over the history is the estimator's Nbar");
                Assert.IsTrue(Number(row, "LowestValidationLoss") <= Number(row, "FinalValidationLoss"), $"{row["Run"]}: the lowest validation loss is at most the final one");
            }

            var history = ReadCsv(Path.Combine(output, "history.csv"));
            var steps = (int)Number(dense, "Steps");
            Assert.HasCount(4 * steps, history, "one row per step of each run");
            Assert.AreEqual(Number(summary[1], "FinalNonZeroCount"), Number(history.Last(row => row["Run"] == "sparse-25-75"), "NonZeroCount"), "N(t) ends at the final count");
        });
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void NarrowingValleyRunsOnTheTinyBudgetAndWritesThePhaseDiagrams()
    {
        string[] files = ["wins.csv", .. from decay in new[] { "wd0", "wd0.1" } from file in new[] { ".csv", "-winner.svg", "-winner.png", "-adam.svg", "-adam.png", "-signum.svg", "-focus.svg" } select decay + file];
        RunExperiment("narrowing_valley.fsx", files, (run, output) =>
        {
            Assert.MatchesRegex(ValleySummaryLine(), run.Output, run.Describe());
            var summary = ValleySummaryLine().Match(run.Output);
            var wins = ReadCsv(Path.Combine(output, "wins.csv")).Where(row => row["WeightDecay"] == "0.1").ToDictionary(row => row["Optimizer"], row => row["Won"]);
            foreach (var optimizer in new[] { "Adam", "Signum", "Focus" })
                Assert.AreEqual(summary.Groups[optimizer].Value, wins[optimizer], $"{optimizer}: wins.csv against the printed summary");
            foreach (var decay in new[] { "wd0", "wd0.1" })
            {
                var rows = ReadCsv(Path.Combine(output, decay + ".csv"));
                Assert.HasCount(9 * 3, rows, $"{decay}: 3 x 3 cells, three optimizers");
                foreach (var cell in rows.GroupBy(row => (row["Sharpness"], row["NoiseLevel"])))
                {
                    Assert.HasCount(3, cell, $"{decay} cell {cell.Key}");
                    var winner = cell.Single(row => row["IsWinner"] == "True");
                    Assert.AreEqual(cell.Min(row => Number(row, "BestLoss")), Number(winner, "BestLoss"), $"{decay} cell {cell.Key}: the winner has the lowest loss");
                }
            }

            StringAssert.Contains(File.ReadAllText(Path.Combine(output, "wd0-winner.svg")), "noise sigma");
        });
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void LossLawRunsOnTheTinyBudgetAndPredictsTheWsdRun()
    {
        RunExperiment("loss_law.fsx", ["points.csv", "errors.csv", "prediction.svg", "prediction.png", "prediction-wsd.svg", "schedules.svg", "schedules.png", "summary.txt"], (run, output) =>
        {
            Assert.MatchesRegex(LossLawSummaryLine(), run.Output, run.Describe());
            var points = ReadCsv(Path.Combine(output, "points.csv"));
            CollectionAssert.AreEquivalent(new[] { "constant", "cosine", "WSD" }, points.Select(point => point["Schedule"]).Distinct().ToArray());
            Assert.IsTrue(points.All(point => (point["Fitted"] == "True") == (point["Schedule"] != "WSD")), "the law is fitted on constant and cosine only");
            var wsdError = points.Where(point => point["Schedule"] == "WSD").Average(point => Number(point, "RelativeError"));
            Assert.IsTrue(wsdError is >= 0 and < 0.2, $"the WSD prediction's MARE is {wsdError}");
            var errors = ReadCsv(Path.Combine(output, "errors.csv")).ToDictionary(row => row["Schedule"]);
            CollectionAssert.AreEquivalent(new[] { "constant", "cosine", "WSD" }, errors.Keys.ToArray());
            Assert.AreEqual(wsdError, Number(errors["WSD"], "MeanAbsoluteRelativeError"), 1e-12, "errors.csv's MARE of WSD is the mean over its points");
            Assert.AreEqual("False", errors["WSD"]["Fitted"]);
            StringAssert.Contains(File.ReadAllText(Path.Combine(output, "summary.txt")), "WSD predicted vs measured: MARE");
        });
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void TheLibraryChecksPass()
    {
        var run = RunScript(Path.Combine("tests", "Estimators", "Scripts", "library_checks.fsx"), outputDirectory: null);

        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "0 check(s) failed", run.Describe());
    }

    /// <summary>An SVG document: the root element, after an optional XML declaration (ScottPlot writes one).</summary>
    [GeneratedRegex(@"\A(<\?xml[^>]*\?>\s*)?<svg[\s>]")]
    private static partial Regex SvgDocumentStart();

    [GeneratedRegex(@"accuracy \d+(\.\d+)? % \| macro-F1 \d\.\d{4} \| log-loss \d+\.\d{4}")]
    private static partial Regex ClassifierMetricLine();

    [GeneratedRegex(@"validation: loss \d+\.\d{4} nats/token \| perplexity \d+\.\d \| \d+\.\d{4} bits/byte")]
    private static partial Regex LanguageModelMetricLine();

    [GeneratedRegex(@"summary: sparse-25-75 vs dense: validation loss \d+\.\d{4} vs \d+\.\d{4} \([+-]\d+\.\d{2}%\), final N \d+ vs \d+")]
    private static partial Regex SparseSummaryLine();

    [GeneratedRegex(@"summary: weight decay 0\.1: cells won Adam (?<Adam>\d+), Signum (?<Signum>\d+), Focus (?<Focus>\d+) of 9")]
    private static partial Regex ValleySummaryLine();

    [GeneratedRegex(@"summary: WSD predicted from constant \+ cosine: MARE \d+\.\d{3}% over \d+ points")]
    private static partial Regex LossLawSummaryLine();

    /// <summary>
    /// The rows of a CSV file the scripts write (a header, no quoted commas; Deedle quotes fields with spaces), as
    /// column-to-text maps.
    /// </summary>
    private static List<Dictionary<string, string>> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        return [.. lines.Skip(1).Select(line => header.Zip(line.Split(',')).ToDictionary(pair => pair.First, pair => pair.Second.Trim('"')))];
    }

    private static double Number(Dictionary<string, string> row, string column) => double.Parse(row[column], CultureInfo.InvariantCulture);

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
                    Assert.MatchesRegex(SvgDocumentStart(), File.ReadAllText(path), $"{file} is not an SVG document");
                if (file.EndsWith(".png", StringComparison.Ordinal))
                    CollectionAssert.AreEqual(PngSignature, File.ReadAllBytes(path)[..PngSignature.Length], $"{file} is not a PNG image");
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
    private static ScriptRun RunScript(string relativePath, string? outputDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var root = RepositoryRoot.FullName;
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
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
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
}
