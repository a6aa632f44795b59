// FOCUS (arXiv 2501.12243) against AdamW and Signum, pre-training a small GPT on the shipped Brown corpus at equal
// tokens: every run starts from the same weights, sees the same batches and follows the same warmup-stable-decay
// schedule (5% warm-up, linear decay to 0 over the last 20%; arXiv 2404.06395); each optimizer is scored at the best
// peak learning rate of its small grid, by the final validation loss.
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/optimizers_brown.fsx                          (full: about 15 minutes on 2 cores)
//   PIPELINES_BUDGET=tiny dotnet fsi src/Scripts/experiments/optimizers_brown.fsx    (smoke run, well under a minute)
//
// Each model trains on one thread; PIPELINES_THREADS runs train at once (default: one per processor).
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/optimizers_brown/:
//   summary.csv     one row per (optimizer, peak rate): final validation loss (Infinity if it diverged), the step it
//                   diverged at, time, whether it is the optimizer's best (a Deedle frame grouped by optimizer)
//   curves.csv      every step of every run: learning rate, training loss, validation loss (empty between evaluations)
//   table.md        the comparison, best first, with the loss at every rate of each grid (OptimizerComparisonReport)
//   validation.svg, .png  validation loss of each optimizer's best run
//   training.svg, .png    training loss (trailing means) of each optimizer's best run

#load "prelude.fsx"

open Deedle
open Microsoft.ML
open Pipelines.Components.Compute
open Pipelines.Experiments
open Pipelines.Components.Models
open Pipelines.Components.Training
open Pipelines.Scripts
open System
open System.IO

let name = "optimizers_brown"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let pick tiny full = Experiment.pick budget tiny full

let context = MLContext(seed = 42)
let corpus = Corpus.brown context (pick 320 1024) (pick 30 Int32.MaxValue) (pick 4 Int32.MaxValue)
printfn "Brown: %d training and %d validation tokens, vocabulary %d" corpus.Training.Length corpus.Validation.Length corpus.VocabularySize

// The full budget is samples/OptimizerComparison's model and grids (3 blocks, width 96) at half its steps.
let steps = pick 40L 1000L
let model =
    TransformerConfig(
        layerCount = pick 1 3,
        headCount = pick 2 4,
        channels = pick 32 96,
        contextLength = pick 32 64,
        vocabularySize = corpus.VocabularySize
    )
let training =
    LanguageModelTrainingOptions(
        BatchSize = pick 4 16,
        SequenceLength = pick 32 64,
        Steps = steps,
        EvaluationInterval = pick 20 100,
        EvaluationBatches = pick 2 8,
        Seed = 7UL
    )
let setup = PretrainingSetup(model, training, ModelSeed = 11UL, FinalEvaluationBatches = pick 4 64)

// Sign methods take steps of size lr per coordinate, so their grid sits a decade below AdamW's.
let candidates =
    [| OptimizerCandidate.AdamW(pick [| 1e-3; 3e-3 |] [| 1e-3; 3e-3; 1e-2 |])
       OptimizerCandidate.Signum(pick [| 1e-3 |] [| 1e-4; 3e-4; 1e-3 |])
       OptimizerCandidate.Focus(pick [| 1e-3 |] [| 1e-4; 3e-4; 1e-3 |]) |]
let options = OptimizerComparisonOptions(setup, candidates)
let runsAtOnce = Experiment.threadCount ()
printfn
    "GPT %d blocks x %d wide; %d runs of %d steps x %d x %d = %d tokens each, %d at a time"
    model.LayerCount model.Channels (candidates |> Array.sumBy _.PeakLearningRates.Count) steps training.BatchSize training.SequenceLength
    setup.TokensPerRun runsAtOnce

let result = OptimizerComparisonExperiment.Run(options, corpus.Training, corpus.Validation, Parallelism runsAtOnce, Runs.progress ())

/// One run of the comparison (a row of summary.csv).
type RunRow =
    { Optimizer: string
      PeakLearningRate: float
      /// +infinity when the run diverged.
      FinalValidationLoss: float
      /// The step the loss or a gradient became non-finite; NaN, written empty, when the run did not diverge.
      DivergedAtStep: float
      ElapsedSeconds: float }

/// One step of one run (a row of curves.csv); the validation loss is NaN, written empty, between evaluations.
type CurveRow =
    { Optimizer: string
      PeakLearningRate: float
      Step: int64
      LearningRate: float
      TrainingLoss: float
      ValidationLoss: float }

// Each optimizer's best rate, found by grouping the runs' frame by optimizer.
let summary =
    let runs =
        [ for run in result.Runs ->
              { Optimizer = run.Name
                PeakLearningRate = run.PeakLearningRate
                FinalValidationLoss = run.FinalValidationLoss
                DivergedAtStep = run.DivergedAtStep |> Option.ofNullable |> Option.map float |> Option.defaultValue nan
                ElapsedSeconds = Math.Round(run.Elapsed.TotalSeconds, 1) } ]
        |> Frames.ofRecords
    let bestLoss =
        runs
        |> Frame.aggregateRowsBy [ "Optimizer" ] [ "FinalValidationLoss" ] (fun (losses: Series<int, float>) -> Seq.min losses.Values)
        |> Frame.indexRows "Optimizer"
        |> Frame.getCol "FinalValidationLoss"
        : Series<string, float>
    runs?IsBest <- runs |> Frame.mapRowValues (fun row -> row.GetAs<float> "FinalValidationLoss" = bestLoss[row.GetAs<string> "Optimizer"])
    runs
Frames.saveCsv (Path.Combine(output, "summary.csv")) summary

[ for run in result.Runs do
      for step in run.History ->
          { Optimizer = run.Name
            PeakLearningRate = run.PeakLearningRate
            Step = step.Step
            LearningRate = step.LearningRate
            TrainingLoss = step.TrainingLoss
            ValidationLoss = step.ValidationLoss.GetValueOrDefault nan } ]
|> Frames.ofRecords
|> Frames.saveCsv (Path.Combine(output, "curves.csv"))

let table = OptimizerComparisonReport.MarkdownTable result
Runs.writeText output "table.md" table

let bestRuns = [ for best in result.Best -> $"%s{best.Name} at %g{best.PeakLearningRate}", List.ofSeq best.History ]
bestRuns
|> List.map (fun (label, history) ->
    label,
    [ for step in history do
          if step.ValidationLoss.HasValue then
              yield float step.Step, step.ValidationLoss.Value ])
|> Charts.line "Validation loss at each optimizer's best peak rate" "step" "loss (nats per token)"
|> Charts.save (Path.Combine(output, "validation.svg"))
let window = max 1 (int steps / 20)
bestRuns
|> List.map (fun (label, history) ->
    label, List.zip (history |> List.map (fun step -> float step.Step)) (history |> List.map _.TrainingLoss |> Charts.smooth window))
|> Charts.line $"Training loss (trailing mean of {window} steps) at each optimizer's best peak rate" "step" "loss (nats per token)"
|> Charts.save (Path.Combine(output, "training.svg"))

printfn ""
printf "%s" table
for best in result.Best do
    if not best.Diverged then
        printfn
            "%s: %.4f nats/token = %.4f nats/byte at peak lr %g%s"
            best.Name best.FinalValidationLoss (best.FinalValidationLoss / corpus.ValidationBytesPerToken) best.PeakLearningRate
            (if result.IsBestAtGridEdge best.Name then " (at the edge of its grid)" else "")
printfn "summary: winner %s at %.4f nats/token, %d tokens per run" result.Winner.Name result.Winner.FinalValidationLoss setup.TokensPerRun
printfn "each optimizer's best rate, from the grouped frame:"
Frames.print (summary |> Frame.filterRowsBy "IsBest" true)
printfn "wrote summary.csv, curves.csv, table.md, validation.svg and training.svg (each chart also as .png) to %s" output
