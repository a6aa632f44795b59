using System.Diagnostics;
using System.Globalization;

namespace Pipelines.Estimators.Tests.Privacy;

/// <summary>samples/PrivateFineTune --quick end to end in a child process: the table, the CSV files and the charts are produced (not who wins).</summary>
[TestClass]
public sealed class PrivateFineTuneSampleTests
{
    [TestMethod]
    [TestCategory("Slow")]
    public void TheQuickRunWritesTheResultsSummaryAndCharts()
    {
        var output = Directory.CreateTempSubdirectory("private-fine-tune-").FullName;
        try
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[] { SampleAssembly(), "--quick", "--output", output }) start.ArgumentList.Add(argument);
            using var process = Process.Start(start) ?? throw new AssertFailedException("The sample did not start.");
            var standardError = process.StandardError.ReadToEndAsync();
            var standardOutput = process.StandardOutput.ReadToEnd();
            Assert.IsTrue(process.WaitForExit(TimeSpan.FromMinutes(3)), "the quick run finished within 3 minutes");
            Assert.AreEqual(0, process.ExitCode, standardOutput + standardError.Result);
            foreach (var method in new[] { "NonPriva", "DpSgd", "Rldp" }) StringAssert.Contains(standardOutput, method, "the summary table lists every method");
            StringAssert.Contains(standardOutput, "Wrote results.csv");

            var results = File.ReadAllLines(Path.Combine(output, "results.csv"));
            Assert.AreEqual("Method,TargetEpsilon,Seed,Epsilon,Delta,NoiseMultiplier,Steps,StoppedByBudget,Accuracy,LogLoss,MembershipAuc,TrainingSeconds,Adaptation,Pretrained", results[0]);
            var rows = results.Skip(1).Select(line => line.Split(',')).ToArray();
            CollectionAssert.AreEqual(new[] { "NonPrivate", "DpSgd", "Rldp" }, rows.Select(row => row[0]).ToArray(), "one run per method at the quick budget");
            foreach (var row in rows.Skip(1))
                Assert.IsTrue(double.Parse(row[3], CultureInfo.InvariantCulture) <= double.Parse(row[1], CultureInfo.InvariantCulture), $"{row[0]} spent no more than its budget");
            foreach (var row in rows)
                Assert.IsTrue(double.Parse(row[10], CultureInfo.InvariantCulture) is >= 0 and <= 1, $"{row[0]}: an AUC in [0, 1]");
            Assert.HasCount(4, File.ReadAllLines(Path.Combine(output, "summary.csv")), "a header and one row per method");
            foreach (var chart in new[] { "accuracy.svg", "accuracy.png", "membership.svg", "membership.png" })
                Assert.IsTrue(new FileInfo(Path.Combine(output, chart)).Length > 0, chart);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>The sample's build output for this test's configuration: samples/PrivateFineTune/bin/{configuration}/{framework}.</summary>
    private static string SampleAssembly()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Pipelines.Tests.Support.RepositoryRoot.Combine("samples", "PrivateFineTune", "bin", output.Parent!.Name, output.Name, "PrivateFineTune.dll");
        if (!File.Exists(path)) Assert.Fail($"The sample is not built at '{path}' (it is a build dependency of this project).");
        return path;
    }
}
