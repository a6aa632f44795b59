// Sparse pre-training (arXiv 2501.12486) at small scale on the shipped Brown corpus: does a bigger GPT pruned during
// pre-training to the same average parameter count Nbar = (1/T) sum_t N(t) as a dense GPT, on the same tokens, reach
// the same validation loss while ending smaller? The bigger model is pruned layer by layer by magnitude on Zhu & Gupta's
// cubic ramp (arXiv 1710.01878) from 25% to 75% of the run (the paper's schedule), early (0-50%) and late (50-100%),
// each schedule's final sparsity solved so that its Nbar equals the dense model's parameter count.
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/sparse_pretraining.fsx                          (full: about 10 minutes on 2 cores)
//   PIPELINES_BUDGET=tiny dotnet fsi src/Scripts/experiments/sparse_pretraining.fsx    (smoke run, well under a minute)
//
// Each run trains on one thread (PIPELINES_THREADS overrides), as many runs at once as that leaves processors for.
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/sparse_pretraining/:
//   summary.csv      one row per run: N, final sparsity, final non-zero count, Nbar, tokens, final validation loss, time,
//                    and from the history (a Deedle aggregation per run) the mean of N(t) and the lowest validation loss
//   history.csv      per step and run: training loss, learning rate, validation loss (empty when not measured), N(t)
//   loss-curves.svg, .png      training and validation loss of every run
//   validation-loss.svg, .png  validation loss of every run
//   parameters.svg, .png       N(t) of every run (the areas under the curves are equal: the same Nbar)

#load "prelude.fsx"

open Deedle
open Microsoft.ML
open Pipelines
open Pipelines.Scripts
open System
open System.IO

let name = "sparse_pretraining"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
let pick tiny full = Experiment.pick budget tiny full

// Small models train faster as concurrent single-thread runs than one after the other on every thread.
let threadsPerRun = Experiment.threadCountOr 1
let concurrentRuns = max 1 (Environment.ProcessorCount / threadsPerRun)
printfn "== %s: budget %A, %d run(s) at a time on %d thread(s) each, output %s" name budget concurrentRuns threadsPerRun output

// Data: one Brown document per row; the tiny budget keeps the first documents only.
let context = MLContext(seed = 42)
let trainText = Data.brownDocuments Train |> List.truncate (pick 30 Int32.MaxValue) |> Data.documents |> Data.load context
let validationText = Data.brownDocuments Validation |> List.truncate (pick 4 Int32.MaxValue) |> Data.documents |> Data.load context

// Tokens: one byte-pair encoding, learnt once on the training text, for every run.
let tokenizer = Pipeline.trainTokenizer context (pick 320 1024) |> Pipeline.fitWithoutValidation trainText
let train = tokenizer.Model.Transform trainText
let validation = tokenizer.Model.Transform validationText
let vocabularySize = tokenizer.Model.Tokenizer.VocabularySize
printfn "BPE vocabulary of %d tokens learnt in %.1f s" vocabularySize tokenizer.Elapsed.TotalSeconds

// Every run shares the seed, hence the batches, and everything but the model's depth. The full budget is the
// SparsePretraining sample's comparison (4 blocks dense vs 6 blocks sparse, width 64, 1,200 steps of 16 x 64 tokens),
// on the estimators' warmup-stable-decay schedule instead of the sample's cosine.
let steps = pick 40L 1200L
let dense =
    { LanguageModelOptions.defaults with
        Layers = pick 2 4
        Heads = pick 2 4
        Channels = pick 32 64
        ContextLength = pick 32 64
        BatchSize = pick 4 16
        Steps = steps
        LearningRate = 3e-3
        EvaluationInterval = pick 20 150
        EvaluationBatches = pick 2 32
        Seed = Some 1
        ThreadCount = Some threadsPerRun }
let sparse = { dense with Layers = pick 3 6 }

let denseCounts = Sparse.parameterCounts vocabularySize dense
let sparseCounts = Sparse.parameterCounts vocabularySize sparse
let target = float denseCounts.Total
let interval = Some(max 1L (steps / 50L))
let plans =
    AverageParameterCount target
    |> Sparse.standardPlans
    |> List.map (fun (run, plan) -> run, { plan with Interval = interval })
printfn
    "dense: %d blocks, N = %d | sparse: %d blocks, N = %d (%d prunable), pruned to Nbar = %d | %d steps of %d x %d tokens"
    dense.Layers denseCounts.Total sparse.Layers sparseCounts.Total sparseCounts.Prunable denseCounts.Total steps dense.BatchSize
    dense.ContextLength

/// A run of the comparison.
type Variant =
    | Dense
    | Pruned of run: string * plan: PruningPlan

/// What a run produced: its summary, per-step history and N(t).
type Outcome =
    { Summary: SparseRunSummary
      History: Pipelines.Components.Training.StepMetrics list
      NonZeroCounts: int64 list }

let progress = pick (Lines 2) (Lines 6)
let runOne (variant: Variant) : Outcome =
    match variant with
    | Dense ->
        let fitted =
            Pipeline.pretrainLanguageModel context dense
            |> Pipeline.named "dense"
            |> Pipeline.withProgress progress
            |> Pipeline.fit train validation
        { Summary = Sparse.summarizeDense fitted
          History = fitted.History
          NonZeroCounts = fitted.History |> List.map (fun _ -> fitted.Model.ParameterCount) }
    | Pruned(run, plan) ->
        let fitted =
            Sparse.pretrain context sparse plan
            |> Pipeline.named run
            |> Pipeline.withProgress progress
            |> Pipeline.fit train validation
        { Summary = Sparse.summarizeSparse fitted
          History = fitted.History
          NonZeroCounts = List.ofSeq fitted.Model.NonZeroCounts }

let outcomes =
    Dense :: [ for run, plan in plans -> Pruned(run, plan) ]
    |> Sweep.runWith { Sweep.defaults with Parallel = concurrentRuns > 1; MaximumParallelism = concurrentRuns } runOne
    |> Sweep.results
let summaries = outcomes |> List.map _.Summary

/// One row of history.csv; the validation loss is NaN, written empty, where it was not measured.
type HistoryRow =
    { Run: string
      Step: int64
      TrainingLoss: float
      LearningRate: float
      ValidationLoss: float
      NonZeroCount: int64 }

let history =
    [ for outcome in outcomes do
          for metrics, nonZero in List.zip outcome.History outcome.NonZeroCounts ->
              { Run = outcome.Summary.Run
                Step = metrics.Step
                TrainingLoss = metrics.TrainingLoss
                LearningRate = metrics.LearningRate
                ValidationLoss = metrics.ValidationLoss.GetValueOrDefault nan
                NonZeroCount = nonZero } ]
    |> Frames.ofRecords
Frames.saveCsv (Path.Combine(output, "history.csv")) history

// The summary as a Deedle frame, joined with what the history says of each run: Nbar measured as the mean of N(t)
// over the steps (it must equal the estimator's own Nbar) and the lowest validation loss.
let summary =
    let perRun column (aggregate: Series<int, float> -> float) newName =
        let aggregated: Frame<string, string> =
            history |> Frame.aggregateRowsBy [ "Run" ] [ column ] aggregate |> Frame.indexRows "Run"
        newName, aggregated.GetColumn<float> column
    let fromHistory =
        Frame.ofColumns
            [ perRun "NonZeroCount" Stats.mean "MeanNonZeroCount"
              perRun "ValidationLoss" (fun losses -> Seq.min losses.Values) "LowestValidationLoss" ]
    let runs: Frame<string, string> = summaries |> Frames.ofRecords |> Frame.indexRows "Run"
    Frame.join JoinKind.Left runs fromHistory

printfn ""
Table.print summaries
Frames.saveCsvWithKeys "Run" (Path.Combine(output, "summary.csv")) summary

outcomes
|> List.map (fun outcome -> outcome.Summary.Run, outcome.History)
|> Charts.lossCurves "Brown: dense vs Nbar-matched sparse pre-training"
|> Charts.save (Path.Combine(output, "loss-curves.svg"))

// The validation losses alone: the runs' differences are a few hundredths of a nat, lost among the training curves.
outcomes
|> List.map (fun outcome ->
    outcome.Summary.Run,
    [ for metrics in outcome.History do
          if metrics.ValidationLoss.HasValue then
              yield float metrics.Step, metrics.ValidationLoss.Value ])
|> Charts.line "Validation loss" "step" "loss (nats per token)"
|> Charts.save (Path.Combine(output, "validation-loss.svg"))

outcomes
|> List.map (fun outcome ->
    $"{outcome.Summary.Run} (Nbar %.0f{outcome.Summary.AverageParameterCount})",
    outcome.NonZeroCounts |> List.mapi (fun index count -> float (index + 1), float count))
|> Charts.line "Non-zero parameters N(t)" "step" "N(t)"
|> Charts.save (Path.Combine(output, "parameters.svg"))

// One line per sparse run against the dense one: the claim is "about the same loss, a smaller final model".
let baseline = summaries.Head
for run in summaries.Tail do
    printfn
        "summary: %s vs dense: validation loss %.4f vs %.4f (%+.2f%%), final N %d vs %d (%+.1f%%), Nbar %.0f vs %.0f, s_f %.1f%%"
        run.Run
        run.FinalValidationLoss
        baseline.FinalValidationLoss
        (100.0 * (run.FinalValidationLoss / baseline.FinalValidationLoss - 1.0))
        run.FinalNonZeroCount
        baseline.FinalNonZeroCount
        (100.0 * (float run.FinalNonZeroCount / float baseline.FinalNonZeroCount - 1.0))
        run.AverageParameterCount
        baseline.AverageParameterCount
        (100.0 * run.FinalSparsity)
printfn "wrote summary.csv, history.csv, loss-curves.svg, validation-loss.svg and parameters.svg (each chart also as .png) to %s" output
