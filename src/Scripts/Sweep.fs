namespace Pipelines.Scripts

open System
open System.Diagnostics
open System.Runtime.ExceptionServices
open System.Threading.Tasks

/// How a sweep runs its trials.
type SweepSettings =
    {
        /// Run trials at the same time (default false). Each training run already uses every thread it is given,
        /// so run in parallel only when each trial is given few threads (<c>ThreadCount</c>).
        Parallel: bool
        /// At most this many trials at once when <c>Parallel</c> (default: the processor count).
        MaximumParallelism: int
        /// Keep going when a trial throws, recording the exception (default false: the first failure stops the sweep).
        ContinueOnError: bool
    }

/// One point of a sweep: the variant it ran, what it returned or threw, and how long it took.
type Trial<'Variant, 'Result> =
    {
        /// Position of the variant in the grid (0-based).
        Index: int
        /// The options (or whatever the grid holds) of this trial.
        Variant: 'Variant
        /// The experiment's result, or the exception it threw (only with <c>ContinueOnError</c>).
        Outcome: Result<'Result, exn>
        /// Wall time of the trial.
        Elapsed: TimeSpan
    }

/// Runs an experiment over a grid of variants and collects the results:
/// <c>[ for rate in [1e-3; 3e-3] -> { options with LearningRate = rate } ] |> Sweep.run experiment</c>.
[<RequireQualifiedAccess>]
module Sweep =
    /// Sequential, stopping at the first failure.
    let defaults: SweepSettings =
        { Parallel = false
          MaximumParallelism = Environment.ProcessorCount
          ContinueOnError = false }

    /// Every pair of the two lists, the first varying slowest.
    let grid2 (first: 'A list) (second: 'B list) : ('A * 'B) list = List.allPairs first second

    /// Every triple of the three lists, the first varying slowest.
    let grid3 (first: 'A list) (second: 'B list) (third: 'C list) : ('A * 'B * 'C) list =
        [ for a in first do
              for b in second do
                  for c in third -> a, b, c ]

    let private runOne (settings: SweepSettings) (experiment: 'Variant -> 'Result) (index: int) (variant: 'Variant) =
        let clock = Stopwatch.StartNew()
        let outcome =
            if settings.ContinueOnError then
                try
                    Ok(experiment variant)
                with error ->
                    eprintfn "trial %d (%A) failed: %s" index variant error.Message
                    Error error
            else
                Ok(experiment variant)
        { Index = index
          Variant = variant
          Outcome = outcome
          Elapsed = clock.Elapsed }

    /// Runs <paramref name="experiment"/> on every variant as <paramref name="settings"/> say; the trials come back in grid order.
    /// <exception cref="System.ArgumentOutOfRangeException">A maximum parallelism below 1.</exception>
    let runWith (settings: SweepSettings) (experiment: 'Variant -> 'Result) (grid: 'Variant seq) : Trial<'Variant, 'Result> list =
        if settings.MaximumParallelism < 1 then
            raise (ArgumentOutOfRangeException("MaximumParallelism", settings.MaximumParallelism, "Must be at least 1."))
        let variants = Array.ofSeq grid
        if settings.Parallel then
            let trials = Array.zeroCreate variants.Length
            let parallelOptions = ParallelOptions(MaxDegreeOfParallelism = settings.MaximumParallelism)
            try
                Parallel.For(0, variants.Length, parallelOptions, fun index -> trials[index] <- runOne settings experiment index variants[index])
                |> ignore
            with :? AggregateException as aggregate when aggregate.InnerExceptions.Count = 1 ->
                // Rethrow the trial's own exception, as the sequential sweep does.
                ExceptionDispatchInfo.Throw aggregate.InnerExceptions[0]
            List.ofArray trials
        else
            variants |> Array.mapi (runOne settings experiment) |> List.ofArray

    /// Runs <paramref name="experiment"/> on every variant, one after the other, stopping at the first failure.
    let run (experiment: 'Variant -> 'Result) (grid: 'Variant seq) : Trial<'Variant, 'Result> list = runWith defaults experiment grid

    /// The results of the trials that succeeded, in grid order.
    let results (trials: Trial<'Variant, 'Result> list) : 'Result list =
        trials
        |> List.choose (fun trial ->
            match trial.Outcome with
            | Ok result -> Some result
            | Error _ -> None)

    /// The variants whose trial threw, with the exception.
    let failures (trials: Trial<'Variant, 'Result> list) : ('Variant * exn) list =
        trials
        |> List.choose (fun trial ->
            match trial.Outcome with
            | Ok _ -> None
            | Error error -> Some(trial.Variant, error))

    /// The successful result that minimises <paramref name="score"/> (e.g. validation loss), if any.
    let best (score: 'Result -> float) (trials: Trial<'Variant, 'Result> list) : 'Result option =
        match results trials |> List.filter (score >> Double.IsNaN >> not) with
        | [] -> None
        | finished -> Some(List.minBy score finished)

    /// Writes the successful results as CSV (one column per property of the result record).
    let writeCsv (path: string) (trials: Trial<'Variant, 'Result> list) : unit = Csv.write path (results trials)

    /// The results as a table, then a line per failed trial.
    let summary (trials: Trial<'Variant, 'Result> list) : string =
        let failed =
            failures trials
            |> List.map (fun (variant, error) -> sprintf "failed: %A: %s" variant error.Message)
        String.concat Environment.NewLine (Table.ofRecords (results trials) :: failed)
