using System.Diagnostics;
using Pipelines.Tests.Support;

namespace Pipelines.Estimators.Tests.Scripts;

/// <content>The selective-LoRA experiment end to end: samples/LayerDiagnostics --quick, then selective_lora.fsx on its output.</content>
public sealed partial class FsxScriptTests
{
    [TestMethod]
    [TestCategory("Slow")]
    public void TheSelectiveLoraSampleAndItsScriptProduceTheirTables()
    {
        var runs = Directory.CreateTempSubdirectory("selective-lora-runs-").FullName;
        var analysis = Directory.CreateTempSubdirectory("selective-lora-analysis-").FullName;
        try
        {
            var sample = RunSample("LayerDiagnostics", ["experiment", "--quick", "--threads", "1", "--output", runs]);
            Assert.AreEqual(0, sample.ExitCode, sample.Describe());
            foreach (var file in new[] { "runs.csv", "summary.csv", "sources.csv", "comparison.svg", "comparison.png", "diagnosis-over-trained.csv", "diagnosis-under-trained.png", "plan-over-trained.json" })
                Assert.IsTrue(File.Exists(Path.Combine(runs, file)), $"{file} is written\n{sample.Describe()}");
            var runRows = ReadCsv(Path.Combine(runs, "runs.csv"));
            Assert.HasCount(6, runRows, "two sources x three methods x one seed");
            CollectionAssert.AreEquivalent(new[] { "selective LoRA", "LoRA everywhere", "full fine-tuning" }, runRows.Select(row => row["Method"]).Distinct().ToArray());
            foreach (var row in runRows)
            {
                Assert.IsTrue(Number(row, "Accuracy") is >= 0 and <= 1, $"accuracy {row["Accuracy"]}");
                Assert.IsTrue(Number(row, "TrainableParameters") > 0);
            }

            var full = runRows.First(row => row["Method"] == "full fine-tuning");
            var selective = runRows.First(row => row["Method"] == "selective LoRA" && row["Source"] == full["Source"]);
            Assert.IsTrue(Number(selective, "TrainableParameters") < Number(full, "TrainableParameters"), "LoRA trains fewer parameters");
            var diagnosis = ReadCsv(Path.Combine(runs, "diagnosis-over-trained.csv"));
            Assert.HasCount(3, diagnosis, "one row per layer of the quick model");
            Assert.IsTrue(diagnosis.Any(row => row["Chosen"] == "True"), "the plan's layers are marked");

            var script = RunScript(Path.Combine("src", "Scripts", "experiments", "selective_lora.fsx"), analysis, new Dictionary<string, string> { ["PIPELINES_INPUT"] = runs });
            Assert.AreEqual(0, script.ExitCode, script.Describe());
            var gaps = ReadCsv(Path.Combine(analysis, "gaps.csv"));
            Assert.HasCount(4, gaps, "two sources x two LoRA methods, each paired with full fine-tuning");
            StringAssert.StartsWith(File.ReadAllText(Path.Combine(analysis, "finding.txt")), "Selective LoRA minus full fine-tuning");
            Assert.IsTrue(File.Exists(Path.Combine(analysis, "gaps.png")));
        }
        finally
        {
            Directory.Delete(runs, recursive: true);
            Directory.Delete(analysis, recursive: true);
        }
    }

    /// <summary>Runs the built <c>samples/<paramref name="sample"/></c> (a project reference of this test project builds it) with <paramref name="arguments"/>.</summary>
    private static ScriptRun RunSample(string sample, string[] arguments)
    {
        var dll = RepositoryRoot.Combine("samples", sample, "bin",
            AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug", "net10.0", sample + ".dll");
        Assert.IsTrue(File.Exists(dll), $"{dll} is missing: this project builds the sample first");
        var start = new ProcessStartInfo(DotnetHost(), [dll, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The sample did not finish within {Timeout.TotalMinutes} minutes.");
        }

        return new ScriptRun(process.ExitCode, output.Result, error.Result, clock.Elapsed);
    }
}
