using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;
using Pipelines.Components.Training;

namespace Pipelines.Components.FaultChild;

/// <summary>
/// The run the kill test interrupts, compiled into both the child program and the test (linked source), so the test's
/// uninterrupted reference and the child's interrupted runs are the same run: one thread, fixed seeds, a checkpoint
/// after every step, resumed from the checkpoint when one exists.
/// </summary>
internal static class FaultRun
{
    public const long Steps = 300;

    public static readonly TransformerConfig Config = new(layerCount: 2, headCount: 2, channels: 32, contextLength: 16, vocabularySize: 64);

    public static int[] Tokens() => [.. Enumerable.Range(0, 4_000).Select(index => (index * 7 + index / 13 + index / 101) % 64)];

    public static WarmupStableDecaySchedule Schedule() => new(3e-3, Steps, DecayLength.OfFraction(0.2), warmupSteps: 10);

    /// <summary>Trains the run to <see cref="Steps"/>, checkpointing to <paramref name="checkpoint"/> after every step (null: never).</summary>
    public static GptModel Train(string? checkpoint)
    {
        var model = GptModel.Create(Config, seed: 7, Parallelism.Sequential);
        var schedule = Schedule();
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(schedule), model.Parameters);
        var options = new LanguageModelTrainingOptions
        {
            BatchSize = 4, SequenceLength = 16, Steps = Steps, EvaluationInterval = 0, Seed = 11,
            CheckpointInterval = checkpoint is null ? 0 : 1, CheckpointPath = checkpoint,
        };
        var resumeFrom = checkpoint is not null && File.Exists(checkpoint) ? checkpoint : null;
        new LanguageModelTrainer(model, optimizer, options, [new ScheduleLayoutHook(schedule)]).Train(Tokens(), null, resumeFrom: resumeFrom);
        return model;
    }

    /// <summary>Reads <paramref name="checkpoint"/> as the run would resume it; returns its step and weights.</summary>
    public static (long Step, float[] Weights) Read(string checkpoint)
    {
        var model = GptModel.Create(Config, seed: 7, Parallelism.Sequential);
        var schedule = Schedule();
        var optimizer = new GradientTransformOptimizer(Optimizers.AdamW(schedule), model.Parameters);
        var options = new LanguageModelTrainingOptions { BatchSize = 4, SequenceLength = 16, Seed = 11 };
        var run = RunRecord.ForLanguageModel(Config, options, optimizer, Tokens());
        var (step, _) = TrainingCheckpoint.Read(checkpoint, model.Parameters, optimizer, [new ScheduleLayoutHook(schedule)], run);
        return (step, model.Parameters.Values.ToArray());
    }
}
