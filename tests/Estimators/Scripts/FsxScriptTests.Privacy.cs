namespace Pipelines.Estimators.Tests.Scripts;

/// <summary>private_finetune.fsx on the tiny budget: its runs, its Deedle summary and its chart (not who wins).</summary>
public sealed partial class FsxScriptTests
{
    [TestMethod]
    [TestCategory("Slow")]
    public void PrivateFineTuneRunsOnTheTinyBudgetAndKeepsEveryPrivateRunWithinItsBudget()
    {
        RunExperiment("private_finetune.fsx", ["runs.csv", "summary.csv", "privacy.svg", "privacy.png"], (run, output) =>
        {
            var runs = ReadCsv(Path.Combine(output, "runs.csv"));
            CollectionAssert.AreEqual(new[] { "NonPrivate", "DpSgd", "Rldp" }, runs.Select(row => row["Method"]).ToArray(), run.Describe());
            foreach (var row in runs.Skip(1))
                Assert.IsTrue(Number(row, "Epsilon") <= Number(row, "TargetEpsilon"), $"{row["Method"]} spent {row["Epsilon"]} of {row["TargetEpsilon"]}");
            foreach (var row in runs)
                Assert.IsTrue(Number(row, "MembershipAuc") is >= 0 and <= 1 && Number(row, "Accuracy") is >= 0 and <= 1, string.Join(", ", row));
            Assert.HasCount(4, File.ReadAllLines(Path.Combine(output, "summary.csv")), "a header and one row per setting");
        });
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void PrvVersusRdpReportsATighterPrvEpsilonForEachBudget()
    {
        RunExperiment("prv_vs_rdp.fsx", [], (run, _) =>
        {
            var lines = run.Output.Split('\n').Where(line => line.StartsWith("target ", StringComparison.Ordinal)).ToArray();
            Assert.HasCount(3, lines, run.Describe());
            foreach (var line in lines)
            {
                var numbers = System.Text.RegularExpressions.Regex.Matches(line, @"epsilon (\d+\.\d+)").Select(match => double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                Assert.IsTrue(numbers[1] < numbers[0], $"PRV below RDP: {line}");
            }
        });
    }
}
