using Pipelines.Components.Training;
using Spectre.Console;

namespace LayerDiagnostics;

/// <summary>Spectre.Console output: a progress bar per training run (plain lines when the output is not a terminal).</summary>
internal sealed class Display
{
    /// <summary>Writes a line.</summary>
    public void Line(string text) => AnsiConsole.WriteLine(text);

    /// <summary>Runs <paramref name="train"/> with a progress sink showing step, loss and validation loss.</summary>
    public T Train<T>(string description, long steps, Func<IProgress<TrainingProgress>, T> train)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            Line($"{description}: {steps} steps");
            return train(new Inline(report =>
            {
                if (report.Step == report.TotalSteps) Line($"  done: loss {report.Loss:F3} in {report.Elapsed.TotalSeconds:F0} s");
            }));
        }

        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 20 }, new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(description, maxValue: steps);
                return train(new Inline(report =>
                {
                    task.MaxValue = report.TotalSteps;
                    task.Value = report.Step;
                    var validation = report.ValidationLoss is { } loss ? $" val {loss:F3}" : "";
                    task.Description = $"{description}: step {report.Step}/{report.TotalSteps} loss {report.Loss:F3}{validation}";
                }));
            });
    }

    /// <summary>Reports on the training thread.</summary>
    private sealed class Inline(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
