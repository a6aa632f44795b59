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
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/optimizers_brown/ (OptimizerComparisonReport's files):
//   summary.csv     one row per (optimizer, peak rate): final validation loss, divergence, whether it is the optimizer's best
//   curves.csv      every step of every run: learning rate, training loss, validation loss
//   table.md        the comparison, best first, with the loss at every rate of each grid
//   validation.svg  validation loss of each optimizer's best run
//   training.svg    training loss (window means) of each optimizer's best run

#load "prelude.fsx"

open Pipelines
open Pipelines.Components.Compute
open Pipelines.Components.Experiments
open Pipelines.Components.Models
open Pipelines.Components.Training
open Pipelines.Scripts
open System

let name = "optimizers_brown"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let pick tiny full = Experiment.pick budget tiny full

let context = PipelineContext(seed = 42)
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

Runs.writeText output "summary.csv" (OptimizerComparisonReport.SummaryCsv result)
Runs.writeText output "curves.csv" (OptimizerComparisonReport.CurvesCsv result)
let table = OptimizerComparisonReport.MarkdownTable result
Runs.writeText output "table.md" table
OptimizerComparisonReport.ValidationChart(result) |> Charts.save (IO.Path.Combine(output, "validation.svg"))
OptimizerComparisonReport.TrainingChart(result, max 1 (int steps / 80)) |> Charts.save (IO.Path.Combine(output, "training.svg"))

printfn ""
printf "%s" table
for best in result.Best do
    if not best.Diverged then
        printfn
            "%s: %.4f nats/token = %.4f nats/byte at peak lr %g%s"
            best.Name best.FinalValidationLoss (best.FinalValidationLoss / corpus.ValidationBytesPerToken) best.PeakLearningRate
            (if result.IsBestAtGridEdge best.Name then " (at the edge of its grid)" else "")
printfn "summary: winner %s at %.4f nats/token, %d tokens per run" result.Winner.Name result.Winner.FinalValidationLoss setup.TokensPerRun
printfn "wrote summary.csv, curves.csv, table.md, validation.svg and training.svg to %s" output
