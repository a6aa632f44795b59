using System.Diagnostics;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.FaultChild;

namespace Pipelines.Components.Tests.Training;

/// <summary>
/// Kills a training process (tests/Components.FaultChild, a checkpoint after every step) with SIGKILL at random moments,
/// many of them in the middle of a checkpoint write, and resumes it each time: the last checkpoint must always load, and
/// every run must end with weights bit-identical to an uninterrupted one.
/// </summary>
[TestClass]
public sealed class KillDuringTrainingTests
{
    private const int MinimumKills = 12;

    public TestContext TestContext { get; set; } = null!;

    /// <summary>The child's build output, beside this test's: tests/Components.FaultChild/bin/{configuration}/{framework}.</summary>
    private static string ChildAssembly()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var (framework, configuration) = (output.Name, output.Parent!.Name);
        var tests = output.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(tests, "Components.FaultChild", "bin", configuration, framework, "Pipelines.Components.FaultChild.dll");
        if (!File.Exists(path)) Assert.Fail($"The fault child is not built at '{path}' (it is a build dependency of this project).");
        return path;
    }

    private static Process StartChild(string childAssembly, string checkpoint)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.ArgumentList.Add(childAssembly);
        start.ArgumentList.Add(checkpoint);
        return Process.Start(start) ?? throw new AssertFailedException("The fault child did not start.");
    }

    /// <summary>Polls until a new temporary checkpoint file appears (a write in progress); true if the child exited first.</summary>
    private static bool WaitForAWrite(Process child, string directory, int temporaryBefore)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            if (Directory.GetFiles(directory, "*.tmp").Length > temporaryBefore) return false;
            if (child.HasExited) return true;
        }

        return child.HasExited;
    }

    [TestMethod]
    [Timeout(120_000)]
    public void KilledAtRandomMomentsTheRunResumesToBitIdenticalWeights()
    {
        var childAssembly = ChildAssembly();
        var reference = FaultRun.Train(checkpoint: null).Parameters.Values.ToArray();
        var directory = Directory.CreateTempSubdirectory("pipelines-kill-");
        var random = new Random(2026);
        var clock = Stopwatch.StartNew();
        var (kills, killsMidWrite, killsWithoutCheckpoint, completedRuns, loads) = (0, 0, 0, 0, 0);
        try
        {
            var checkpoint = Path.Combine(directory.FullName, "run.ckpt");
            long lastStep = 0;
            // Keep interrupting until the kills include one in the middle of a checkpoint write (half of them aim there,
            // but one landing just after the rename does not count), then let a run finish.
            bool Enough() => kills >= MinimumKills && killsMidWrite > 0;
            while (completedRuns == 0 || !Enough())
            {
                Assert.IsLessThan(TimeSpan.FromSeconds(90), clock.Elapsed, $"{kills} kills and {completedRuns} completed runs so far");
                using var child = StartChild(childAssembly, checkpoint);
                var errors = child.StandardError.ReadToEndAsync();
                _ = child.StandardOutput.ReadToEndAsync();
                var temporaryBefore = Directory.GetFiles(directory.FullName, "*.tmp").Length;

                // Enough kills made: let this one finish. Otherwise kill it 0.1-0.6 s after start (start-up takes about 0.15 s),
                // every other time at the first moment after that when a checkpoint is being written (its temporary file exists).
                var finished = Enough() ? child.WaitForExit(60_000)
                    : kills % 2 == 0 ? child.WaitForExit(random.Next(100, 600))
                    : child.WaitForExit(random.Next(100, 400)) || WaitForAWrite(child, directory.FullName, temporaryBefore);
                if (!finished && Enough()) Assert.Fail("The last run did not finish within a minute.");
                if (finished)
                {
                    Assert.AreEqual(0, child.ExitCode, errors.Result);
                    var (step, weights) = FaultRun.Read(checkpoint);
                    Assert.AreEqual(FaultRun.Steps, step);
                    CollectionAssert.AreEqual(reference, weights, $"run {completedRuns + 1}, resumed after {kills} kills so far, ends bit-identical");
                    completedRuns++;
                    lastStep = 0;
                    if (!Enough()) File.Delete(checkpoint); // start another run to interrupt
                    continue;
                }

                child.Kill(entireProcessTree: true);
                child.WaitForExit();
                kills++;
                if (Directory.GetFiles(directory.FullName, "*.tmp").Length > temporaryBefore) killsMidWrite++;
                if (!File.Exists(checkpoint))
                {
                    killsWithoutCheckpoint++;
                    continue;
                }

                // The checkpoint left behind is always whole and loadable, and never older than the last one seen.
                var (stepAfterKill, _) = FaultRun.Read(checkpoint);
                loads++;
                Assert.IsGreaterThanOrEqualTo(lastStep, stepAfterKill, $"kill {kills}");
                lastStep = stepAfterKill;
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        TestContext.WriteLine($"{kills} SIGKILLs ({killsMidWrite} in the middle of a checkpoint write, {killsWithoutCheckpoint} before the first checkpoint), " +
            $"{loads} checkpoints loaded after a kill, {completedRuns} runs completed bit-identical, in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.IsGreaterThanOrEqualTo(10, kills);
        Assert.IsGreaterThan(0, killsMidWrite, "at least one kill landed in the middle of a checkpoint write");
    }
}
