using Pipelines.Components.Backends;
using Pipelines.Components.Compute;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;
using Pipelines.Components.TorchSharp.Backends;

namespace Pipelines.Benchmarks.TorchSharp;

/// <summary>
/// Our TorchSharp backend through the public backend boundary, as the estimators drive it:
/// <c>new TorchSharpBackend(device).CreateLanguageModel(config, 0).Train(run)</c>, one <see cref="TrainingLoop"/> run
/// with <c>Optimizers.AdamW(3e-4)</c> over a fixed random token stream, no validation. The time is read from the loop's
/// own progress reports: best of the rounds' windows of <c>Steps</c> steps after the warm-up steps.
/// </summary>
/// <remarks>
/// The work per step equals the plain loop's (same initial weights, batch shape and optimizer); the batches differ only
/// in which tokens they hold, since the loop draws random windows of the stream (<see cref="TokenBatchSampler"/>).
/// </remarks>
internal static class BackendLoop
{
    public static string Run(BenchmarkSettings settings)
    {
        var backend = new TorchSharpBackend(settings.Device);
        using var model = backend.CreateLanguageModel(settings.Config, seed: 0);
        var random = new SeededRandom(0);
        var stream = new int[64 * settings.TokensPerStep];
        for (var index = 0; index < stream.Length; index++) stream[index] = random.NextInt32(settings.Vocabulary);

        var steps = BenchmarkSettings.WarmupSteps + (long)settings.Steps * settings.Rounds;
        var options = new LanguageModelTrainingOptions
        {
            BatchSize = settings.Batch,
            SequenceLength = settings.Context,
            Steps = steps,
            EvaluationInterval = 0,
        };
        var reports = new List<TrainingProgress>();
        var result = model.Train(new LanguageModelTrainingRun(stream, ValidationTokens: null, Optimizers.AdamW(BenchmarkSettings.LearningRate), options)
        {
            Progress = new InlineProgress(reports.Add),
        });

        var best = double.MaxValue;
        for (var round = 0; round < settings.Rounds; round++)
        {
            var start = reports[BenchmarkSettings.WarmupSteps - 1 + round * settings.Steps].Elapsed;
            var end = reports[BenchmarkSettings.WarmupSteps - 1 + (round + 1) * settings.Steps].Elapsed;
            best = Math.Min(best, (end - start).TotalSeconds);
        }

        return settings.Report("backend", model.ParameterCount, best, result.History[^1].TrainingLoss)
            + FormattableString.Invariant($" first_loss={result.History[0].TrainingLoss:F4}");
    }

    /// <summary>Records on the training thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
