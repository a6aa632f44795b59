namespace Pipelines.Estimators.Tests.Scripts;

/// <content>Issue 13's headline claims as smoke runs: samples/HeadlineClaims --quick (both subcommands) and headline_claims.fsx on the tiny budget produce their tables and charts (not who wins).</content>
public sealed partial class FsxScriptTests
{
    private static readonly string[] OptimizerFiles = ["optimizer-tuning.csv", "optimizer-seeds.csv", "optimizer-curves.csv", "optimizer-timing.csv", "optimizers.md", "optimizer-loss-vs-tokens.svg", "optimizer-loss-vs-tokens.png"];

    private static readonly string[] ScheduleFiles = ["schedule-tuning.csv", "schedule-finals.csv", "schedule-curves.csv", "schedule-law.csv", "schedules.md", "schedule-curves.svg", "schedule-curves.png", "schedule-law.svg", "schedule-law.png"];

    [TestMethod]
    [TestCategory("Slow")]
    [DataRow("optimizers")]
    [DataRow("schedules")]
    public void TheHeadlineClaimsSampleWritesItsTablesOnTheQuickBudget(string experiment)
    {
        var output = Directory.CreateTempSubdirectory("headline-claims-").FullName;
        try
        {
            var run = RunSample("HeadlineClaims", [experiment, "--quick", "--threads", "1", "--out", output]);
            Assert.AreEqual(0, run.ExitCode, run.Describe());
            foreach (var file in experiment == "optimizers" ? OptimizerFiles : ScheduleFiles)
                Assert.IsTrue(File.Exists(Path.Combine(output, file)) && new FileInfo(Path.Combine(output, file)).Length > 0, $"{file} is written\n{run.Describe()}");
            if (experiment == "optimizers")
            {
                var seeds = ReadCsv(Path.Combine(output, "optimizer-seeds.csv"));
                CollectionAssert.AreEquivalent(new[] { "AdamW", "Signum", "FOCUS" }, seeds.Select(row => row["Optimizer"]).Distinct().ToArray(), "every optimizer reaches the seed comparison");
                StringAssert.Contains(File.ReadAllText(Path.Combine(output, "optimizers.md")), "| FOCUS |");
            }
            else
            {
                var finals = ReadCsv(Path.Combine(output, "schedule-finals.csv"));
                Assert.IsTrue(finals.Any(row => row["Schedule"].StartsWith("cosine", StringComparison.Ordinal)), "cosine runs are compared");
                Assert.IsTrue(finals.Any(row => row["Schedule"].StartsWith("WSD-S", StringComparison.Ordinal)), "the WSD-S run is compared");
                Assert.IsTrue(finals.All(row => double.IsFinite(Number(row, "FinalValidationLoss"))), "every final loss is finite");
                StringAssert.Contains(File.ReadAllText(Path.Combine(output, "schedules.md")), "Loss law fitted on the cosine runs");
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void HeadlineClaimsScriptWritesBothReportsAndItsFrames()
    {
        RunExperiment("headline_claims.fsx", [.. OptimizerFiles, .. ScheduleFiles, "optimizer-seeds-frame.csv", "schedule-finals-frame.csv"], (run, output) =>
        {
            var frame = ReadCsv(Path.Combine(output, "schedule-finals-frame.csv"));
            Assert.IsNotEmpty(frame, run.Describe());
            Assert.IsTrue(frame.All(row => Number(row, "Minimum") <= Number(row, "Mean") && Number(row, "Mean") <= Number(row, "Maximum")), "min <= mean <= max in every group");
        });
    }
}
