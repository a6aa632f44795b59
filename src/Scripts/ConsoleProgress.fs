namespace Pipelines.Scripts

open System
open System.Globalization
open System.IO
open Pipelines.Components.Training

/// How often a training run prints a progress line.
type ProgressReport =
    /// Nothing is printed.
    | Quiet
    /// A line every this many steps, plus the first and the last step.
    | EverySteps of steps: int
    /// About this many lines over the run, plus the first and the last step.
    | Lines of count: int

/// Progress lines for training runs that do not flood the console: one line every so many steps.
[<RequireQualifiedAccess>]
module ConsoleProgress =
    /// The default: about ten lines per run.
    let defaultReport = Lines 10

    /// The interval, in steps, between lines for a run of <paramref name="totalSteps"/> (0 prints nothing).
    /// <exception cref="System.ArgumentOutOfRangeException">A step or line count below 1.</exception>
    let interval (report: ProgressReport) (totalSteps: int64) : int64 =
        match report with
        | Quiet -> 0L
        | EverySteps steps when steps < 1 -> raise (ArgumentOutOfRangeException("EverySteps", steps, "Must be at least 1."))
        | EverySteps steps -> int64 steps
        | Lines count when count < 1 -> raise (ArgumentOutOfRangeException("Lines", count, "Must be at least 1."))
        | Lines count -> max 1L ((totalSteps + int64 count - 1L) / int64 count)

    /// Whether the line of <paramref name="step"/> is printed: the first step, every interval, the last step.
    let shouldPrint (report: ProgressReport) (step: int64) (totalSteps: int64) : bool =
        let every = interval report totalSteps
        every > 0L && (step = 1L || step = totalSteps || step % every = 0L)

    /// One progress line: label, step, epoch, loss, validation loss (when measured), learning rate, throughput, time.
    let format (label: string) (progress: TrainingProgress) : string =
        let invariant = CultureInfo.InvariantCulture
        let width = string(progress.TotalSteps).Length
        let validation =
            if progress.ValidationLoss.HasValue then String.Format(invariant, " | val {0:F4}", progress.ValidationLoss.Value) else ""
        String.Format(
            invariant,
            "{0}step {1} /{2} | epoch {3:F2} | loss {4:F4}{5} | lr {6:0.00e+0} | {7:N0} tok/s | {8:mm\\:ss}",
            (if String.IsNullOrEmpty label then "" else label + " | "),
            string(progress.Step).PadLeft width,
            progress.TotalSteps,
            progress.Epoch,
            progress.Loss,
            validation,
            progress.LearningRate,
            progress.TokensPerSecond,
            progress.Elapsed)

    /// A progress sink writing lines to <paramref name="writer"/> as <paramref name="report"/> says.
    let toWriter (writer: TextWriter) (label: string) (report: ProgressReport) : IProgress<TrainingProgress> =
        ignore (interval report 1L) // checks the report once, before training starts
        { new IProgress<TrainingProgress> with
            member _.Report progress =
                if shouldPrint report progress.Step progress.TotalSteps then
                    writer.WriteLine(format label progress) }

    /// A progress sink writing lines to the console (safe to share between parallel runs).
    let create (label: string) (report: ProgressReport) : IProgress<TrainingProgress> =
        toWriter Console.Out label report
