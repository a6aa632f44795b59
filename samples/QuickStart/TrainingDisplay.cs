using Pipelines.Components.Training;
using Spectre.Console;

namespace QuickStart;

/// <summary>A live progress bar for a training run: step, loss, learning rate, tokens per second, validation loss.</summary>
internal static class TrainingDisplay
{
    /// <summary>Runs <paramref name="train"/>, handing it a progress sink that updates the display.</summary>
    public static T Run<T>(long totalSteps, Func<IProgress<TrainingProgress>, T> train)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive) return train(new PlainProgress(totalSteps));
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 10 }, new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("starting", maxValue: totalSteps);
                return train(new SynchronousProgress(report =>
                {
                    task.Value = report.Step;
                    task.Description = Describe(report);
                }));
            });
    }

    private static string Describe(TrainingProgress report) =>
        $"step {report.Step}/{report.TotalSteps} loss {report.Loss:F3} val {(report.ValidationLoss is { } validation ? validation.ToString("F3") : "  -  ")} " +
        $"lr {report.LearningRate:0.0e+0} {report.TokensPerSecond:F0} tok/s";

    /// <summary>Calls back on the training thread, so the display always shows the latest step.</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    /// <summary>For output that is not a terminal: a line at every validation and at the end.</summary>
    private sealed class PlainProgress(long totalSteps) : IProgress<TrainingProgress>
    {
        private double? lastValidation;

        public void Report(TrainingProgress value)
        {
            if (value.ValidationLoss == lastValidation && value.Step != totalSteps) return;
            lastValidation = value.ValidationLoss;
            Console.WriteLine($"  {Describe(value)}  ({value.Elapsed.TotalSeconds:F0} s)");
        }
    }
}
