// Fine-tunes a small transformer encoder to tell spam from ham (samples/data/spam) at a few learning rates, in ML.NET
// (MapValueToKey + TrainBytePairEncoding + TextClassifier), and reports ML.NET's metrics with macro-F1 per rate, loss
// curves and the best run's confusion matrix.
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/finetune_spam.fsx                          (full: a few minutes on 2 cores)
//   PIPELINES_BUDGET=tiny dotnet fsi src/Scripts/experiments/finetune_spam.fsx    (smoke run, well under a minute)
//
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/finetune_spam/:
//   sweep.csv                  one row per learning rate: accuracy, macro-F1, log-loss, steps, time, the mean training
//                              loss of the last tenth of the steps and the lowest validation loss (a Deedle frame)
//   history.csv                per-step training loss, learning rate and validation loss of every run
//   loss-curves.svg, .png      training and validation loss of every run
//   confusion.svg, .png        confusion matrix of the run with the lowest validation log-loss

#load "prelude.fsx"

open Deedle
open Microsoft.ML
open Microsoft.ML.Data
open Pipelines
open Pipelines.Components.Training
open Pipelines.Scripts
open System
open System.IO

let name = "finetune_spam"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let pick tiny full = Experiment.pick budget tiny full

// Data: a stratified slice for the tiny budget, all 1,600 / 400 messages otherwise (columns Label and Text).
let context = MLContext(seed = 2024)
let trainRows = Data.spam Train |> Data.takePerLabel (pick 100 800)
let validationRows = Data.spam Validation |> Data.takePerLabel (pick 50 200)
let trainText = Data.load context trainRows
let validationText = Data.load context validationRows

// Label to a key (the classifier's label must be one) and Text to Tokens: a byte-pair encoding learnt once from the
// training text, then both sets go through the fitted chain.
let prepared =
    Pipeline.mapValueToKey context "Label"
    |> Pipeline.andThen (Pipeline.trainTokenizer context (pick 512 2048))
    |> Pipeline.fitWithoutValidation trainText
let trainData = prepared.Model.Transform trainText
let validationData = prepared.Model.Transform validationText
printfn
    "%d training and %d validation messages; BPE vocabulary of %d tokens (%.1f s)"
    trainRows.Length
    validationRows.Length
    prepared.Model.LastTransformer.Tokenizer.VocabularySize
    prepared.Elapsed.TotalSeconds

// Everything but the learning rate is fixed, the seed included, so the runs differ only by rate.
let baseline =
    { ClassifierOptions.defaults with
        Layers = pick 1 2
        Heads = pick 2 4
        Channels = pick 32 64
        MaximumSequenceLength = pick 64 256
        BatchSize = 16
        Steps = pick (Some 40L) None
        Epochs = 3.0
        EvaluationInterval = pick 20 50
        Seed = Some 7
        ThreadCount = Some(Experiment.threadCount ()) }

/// What ML.NET's evaluator says of one run (a row of the metrics frame).
type MetricsRow =
    { LearningRate: float
      Accuracy: float
      MacroF1: float
      LogLoss: float
      Steps: int
      Seconds: float }

/// One step of one run (a row of history.csv); the validation loss is NaN, written empty, where it was not measured.
type HistoryRow =
    { LearningRate: float
      Step: int64
      TrainingLoss: float
      ScheduledRate: float
      ValidationLoss: float }

type Run =
    { Row: MetricsRow
      History: StepMetrics list
      Metrics: MulticlassClassificationMetrics
      ClassNames: string list }

let fineTune (learningRate: float) : Run =
    let fitted =
        Pipeline.fineTuneClassifier context { baseline with LearningRate = learningRate }
        |> Pipeline.named $"lr %g{learningRate}"
        |> Pipeline.fit trainData validationData
    let metrics = Pipeline.evaluateClassifier context validationData fitted.Model
    printfn "lr %g | %s" learningRate (ClassifierMetrics.format metrics)
    { Row =
        { LearningRate = learningRate
          Accuracy = metrics.MicroAccuracy
          MacroF1 = ClassifierMetrics.macroF1 metrics
          LogLoss = metrics.LogLoss
          Steps = fitted.History.Length
          Seconds = fitted.Elapsed.TotalSeconds }
      History = fitted.History
      Metrics = metrics
      ClassNames =
        match fitted.Model.ClassNames with
        | null -> [ for index in 1 .. metrics.ConfusionMatrix.NumberOfClasses -> string index ]
        | names -> List.ofSeq names }

let runs = pick [ 1e-3; 3e-3 ] [ 1e-3; 2e-3; 4e-3 ] |> Sweep.run fineTune |> Sweep.results

// The tables as Deedle frames: the per-step history, aggregated per learning rate and joined with the metrics.
let history =
    [ for run in runs do
          for step in run.History ->
              { LearningRate = run.Row.LearningRate
                Step = step.Step
                TrainingLoss = step.TrainingLoss
                ScheduledRate = step.LearningRate
                ValidationLoss = step.ValidationLoss.GetValueOrDefault nan } ]
    |> Frames.ofRecords
Frames.saveCsv (Path.Combine(output, "history.csv")) history

/// The mean of the last tenth of a run's training losses (at least one): single batches are noisy.
let lastTenthMean (losses: Series<int, float>) : float =
    let values = Array.ofSeq losses.Values
    values[values.Length - max 1 (values.Length / 10) ..] |> Array.average

/// The lowest validation loss of a run (the steps without one are missing values, which Deedle skips).
let lowest (losses: Series<int, float>) : float = Seq.min losses.Values

/// A frame indexed by its learning rates.
let byRate (frame: Frame<int, string>) : Frame<float, string> = frame |> Frame.indexRows "LearningRate"

let sweep =
    let perRate column aggregate =
        history |> Frame.aggregateRowsBy [ "LearningRate" ] [ column ] aggregate |> byRate
    let fromHistory =
        Frame.ofColumns
            [ "FinalTrainingLoss", (perRate "TrainingLoss" lastTenthMean)?TrainingLoss
              "BestValidationLoss", (perRate "ValidationLoss" lowest)?ValidationLoss ]
    let metrics = runs |> List.map _.Row |> Frames.ofRecords |> byRate
    Frame.join JoinKind.Left metrics fromHistory

printfn ""
Frames.print sweep
Frames.saveCsvWithKeys "LearningRate" (Path.Combine(output, "sweep.csv")) sweep

runs
|> List.map (fun run -> $"lr %g{run.Row.LearningRate}", run.History)
|> Charts.lossCurves "Spam fine-tuning: loss by learning rate"
|> Charts.save (Path.Combine(output, "loss-curves.svg"))

let best = runs |> List.minBy _.Row.LogLoss
printfn "best: lr %g | %s" best.Row.LearningRate (ClassifierMetrics.format best.Metrics)
printf "%s" (ClassifierMetrics.confusionTable best.Metrics)
best.Metrics
|> Charts.confusionMatrix $"Spam validation, lr %g{best.Row.LearningRate}" best.ClassNames
|> Charts.save (Path.Combine(output, "confusion.svg"))
printfn "wrote sweep.csv, history.csv, loss-curves.svg/.png and confusion.svg/.png to %s" output
