using System.Diagnostics;
using Pipelines.Components.Compute;
using Pipelines.Components.Models;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;
using Pipelines.Components.Training;

namespace Pipelines.Experiments;

/// <summary>An optimizer's wall time per training step, and the part of it its update takes.</summary>
/// <param name="Name">The optimizer.</param>
/// <param name="Size">The model size timed.</param>
/// <param name="SecondsPerStep">Median over rounds of the mean wall time of a whole step (batch, forward, backward, update).</param>
/// <param name="UpdateSecondsPerStep">Median over rounds of the mean wall time of the optimizer's update alone.</param>
public sealed record OptimizerTiming(string Name, string Size, double SecondsPerStep, double UpdateSecondsPerStep);

/// <summary>Times each optimizer's training steps on one thread, the optimizers taking turns so background load hits them alike.</summary>
internal static class OptimizerStepTiming
{
    private const int Rounds = 3;

    public static OptimizerTiming[] Measure(OptimizerTuningOptions options, IReadOnlyList<OptimizerSetting> settings, int[] trainingTokens, CancellationToken cancellationToken)
    {
        var size = ModelSize.Of(options.Setup.Model);
        var training = options.Setup.Training with { Steps = options.TimingSteps, EvaluationInterval = 0 };
        var step = new double[settings.Count][];
        var update = new double[settings.Count][];
        for (var index = 0; index < settings.Count; index++) (step[index], update[index]) = (new double[Rounds], new double[Rounds]);
        for (var round = 0; round < Rounds; round++)
        {
            for (var index = 0; index < settings.Count; index++)
            {
                var model = GptModel.Create(options.Setup.Model, options.Setup.ModelSeed, Parallelism.Sequential);
                var optimizer = new GradientTransformOptimizer(settings[index].Create(options.ScheduleFor(settings[index].PeakLearningRate)), model.Parameters);
                var hook = new UpdateClock();
                var clock = Stopwatch.StartNew();
                new LanguageModelTrainer(model, optimizer, training, [hook]).Train(trainingTokens, null, cancellationToken: cancellationToken);
                step[index][round] = clock.Elapsed.TotalSeconds / options.TimingSteps;
                update[index][round] = hook.Elapsed.TotalSeconds / options.TimingSteps;
            }
        }

        return settings.Select((setting, index) => new OptimizerTiming(setting.Name, size.Name, Median(step[index]), Median(update[index]))).ToArray();
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }

    /// <summary>Adds up the time between the end of each backward pass and the end of the update that follows it.</summary>
    private sealed class UpdateClock : ITrainingHook
    {
        private readonly Stopwatch clock = new();

        public TimeSpan Elapsed => clock.Elapsed;

        public void AfterBackward(long step, ParameterArena arena) => clock.Start();

        public void AfterUpdate(long step, ParameterArena arena, IOptimizer optimizer) => clock.Stop();

        public void SaveState(BinaryWriter writer)
        {
        }

        public void LoadState(BinaryReader reader)
        {
        }
    }
}
