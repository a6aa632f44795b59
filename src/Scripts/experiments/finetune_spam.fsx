// Fine-tunes a small transformer encoder to tell spam from ham (samples/data/spam) at a few learning rates,
// and reports accuracy / macro-F1 / log-loss per rate, loss curves and the best run's confusion matrix.
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/finetune_spam.fsx                          (full: a few minutes on 2 cores)
//   PIPELINES_BUDGET=tiny dotnet fsi src/Scripts/experiments/finetune_spam.fsx    (smoke run, well under a minute)
//
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/finetune_spam/:
//   sweep.csv        one row per learning rate (metrics, final losses, time)
//   history.csv      per-step training loss, learning rate and validation loss of every run
//   loss-curves.svg  training and validation loss of every run
//   confusion.svg    confusion matrix of the run with the lowest validation log-loss

#load "prelude.fsx"

open Pipelines
open Pipelines.Components.Training
open Pipelines.FineTuning
open Pipelines.Scripts
open System
open System.IO

let name = "finetune_spam"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let pick tiny full = Experiment.pick budget tiny full

// Data: a stratified slice for the tiny budget, all 1,600 / 400 messages otherwise (columns Label and Text).
let context = PipelineContext(seed = 2024)
let trainText = Data.spam Train |> Data.takePerLabel (pick 100 800) |> Data.load context
let validationText = Data.spam Validation |> Data.takePerLabel (pick 50 200) |> Data.load context

// Tokens: a byte-pair encoding learnt once from the training text adds the Tokens column the classifier reads.
let vocabularySize = pick 512 2048
let tokenizer = Pipeline.trainTokenizer context vocabularySize |> Pipeline.fitWithoutValidation trainText
let trainData = tokenizer.Model.Transform trainText
let validationData = tokenizer.Model.Transform validationText
printfn
    "%d training and %d validation messages; BPE vocabulary of %d tokens (%.1f s)"
    (trainText.GetRowCount().GetValueOrDefault())
    (validationText.GetRowCount().GetValueOrDefault())
    tokenizer.Model.Tokenizer.VocabularySize
    tokenizer.Elapsed.TotalSeconds

// Everything but the learning rate is fixed, the seed included, so the runs differ only by rate.
let baseline =
    { ClassifierOptions.defaults with
        VocabularySize = tokenizer.Model.Tokenizer.VocabularySize
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

/// One row of sweep.csv.
type SweepRow =
    { LearningRate: float
      Accuracy: float
      MacroF1: float
      LogLoss: float
      FinalTrainingLoss: float
      Steps: int
      Seconds: float }

/// One row of history.csv.
type HistoryRow =
    { LearningRate: float
      Step: int64
      TrainingLoss: float
      ScheduledRate: float
      ValidationLoss: Nullable<float> }

type Run =
    { Row: SweepRow
      History: StepMetrics list
      Metrics: ClassificationMetrics }

let fineTune (learningRate: float) : Run =
    let fitted =
        Pipeline.fineTuneClassifier context { baseline with LearningRate = learningRate }
        |> Pipeline.named $"lr %g{learningRate}"
        |> Pipeline.fit trainData validationData
    let metrics = Pipeline.evaluateClassifier context validationData fitted.Model
    printfn "lr %g | %s" learningRate (ClassifierMetrics.format metrics)
    { Row =
        { LearningRate = learningRate
          Accuracy = metrics.Accuracy
          MacroF1 = metrics.MacroF1
          LogLoss = metrics.LogLoss
          FinalTrainingLoss = fitted.History |> List.last |> _.TrainingLoss
          Steps = fitted.History.Length
          Seconds = fitted.Elapsed.TotalSeconds }
      History = fitted.History
      Metrics = metrics }

let trials = pick [ 1e-3; 3e-3 ] [ 1e-3; 2e-3; 4e-3 ] |> Sweep.run fineTune
let runs = Sweep.results trials

printfn ""
Table.print (runs |> List.map _.Row)
Csv.write (Path.Combine(output, "sweep.csv")) (runs |> List.map _.Row)
Csv.write
    (Path.Combine(output, "history.csv"))
    [ for run in runs do
          for step in run.History ->
              { LearningRate = run.Row.LearningRate
                Step = step.Step
                TrainingLoss = step.TrainingLoss
                ScheduledRate = step.LearningRate
                ValidationLoss = step.ValidationLoss } ]

runs
|> List.map (fun run -> $"lr %g{run.Row.LearningRate}", run.History)
|> Charts.lossCurves "Spam fine-tuning: loss by learning rate"
|> Charts.save (Path.Combine(output, "loss-curves.svg"))

let best = runs |> List.minBy _.Row.LogLoss
printfn "best: lr %g | %s" best.Row.LearningRate (ClassifierMetrics.format best.Metrics)
printf "%s" (best.Metrics.ConfusionMatrix.GetFormattedConfusionTable())
best.Metrics
|> Charts.confusionMatrix $"Spam validation, lr %g{best.Row.LearningRate}"
|> Charts.save (Path.Combine(output, "confusion.svg"))
printfn "wrote sweep.csv, history.csv, loss-curves.svg and confusion.svg to %s" output
