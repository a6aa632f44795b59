// Differentially private fine-tuning of the spam classifier (technique 5) in F#: the encoder fine-tuned without
// privacy, with DP-SGD and with RLDP at target epsilons (delta 1e-5), in ML.NET (MapValueToKey + TrainBytePairEncoding
// + TextClassifier with the Privacy option), scored by ML.NET's evaluator and by a loss-threshold membership-inference
// attack (AUC: members = training messages, non-members = held-out ones; 0.5 = no leak). The C# sample
// samples/PrivateFineTune runs the same comparison with three seeds; this script is its Deedle view at a smaller size.
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/private_finetune.fsx                          (full: about 8 minutes on 2 cores)
//   PIPELINES_BUDGET=tiny dotnet fsi src/Scripts/experiments/private_finetune.fsx    (smoke run, well under a minute)
//
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/private_finetune/:
//   runs.csv                   one row per run: method, target and spent epsilon, seed, accuracy, log-loss, attack AUC
//   summary.csv                mean and standard deviation per method and budget (a Deedle aggregation of runs.csv)
//   privacy.svg, .png          accuracy and attack AUC against the target epsilon, the non-private run as a reference

#load "prelude.fsx"

open Deedle
open Microsoft.ML
open Pipelines
open Pipelines.Components.Models
open Pipelines.Components.Privacy
open Pipelines.Components.Schedules
open Pipelines.FineTuning
open Pipelines.Scripts
open System
open System.IO

let name = "private_finetune"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let pick tiny full = Experiment.pick budget tiny full

let context = MLContext(seed = 2024)
let shuffle (seed: int) (rows: LabeledText list) = rows |> List.sortBy (let random = Random(seed) in fun _ -> random.Next())
let trainRows = Data.spam Train |> Data.takePerLabel (pick 60 400) |> shuffle 1
let heldOutRows = Data.spam Validation |> Data.takePerLabel (pick 20 100) |> shuffle 2
let rewardRows, testRows = List.splitAt (pick 10 50) heldOutRows
let prepared =
    Pipeline.mapValueToKey context "Label"
    |> Pipeline.andThen (Pipeline.trainTokenizer context (pick 300 1024))
    |> Pipeline.fitWithoutValidation (Data.load context trainRows)
let tokens (rows: LabeledText list) = prepared.Model.Transform(Data.load context rows)
let train, reward, test = tokens trainRows, tokens rewardRows, tokens testRows
printfn "%d training (members), %d test (non-members), %d reward messages" trainRows.Length testRows.Length rewardRows.Length

type Method =
    | NonPrivate
    | DpSgd
    | Rldp

/// One run (a row of runs.csv); epsilon spent is infinite and the target NaN for the non-private run.
type RunRow =
    { Setting: string
      Method: string
      TargetEpsilon: float
      Seed: int
      Epsilon: float
      Accuracy: float
      LogLoss: float
      MembershipAuc: float }

/// AUC of telling members from non-members by their loss: P(loss member < loss non-member), ties counting half.
let lossThresholdAuc (members: float[]) (nonMembers: float[]) : float =
    let pairs = [| for m in members do for n in nonMembers -> if m < n then 1.0 elif m = n then 0.5 else 0.0 |]
    Array.average pairs

/// The class probabilities the classifier adds, read back from the view.
[<CLIMutable>]
type ScoreRow = { Score: float32[] }

/// -ln p[label] of every row of <paramref name="data"/>.
let losses (classifier: TextClassificationTransformer) (data: IDataView) (rows: LabeledText list) : float[] =
    let names = List.ofSeq classifier.ClassNames
    let scores = context.Data.CreateEnumerable<ScoreRow>(classifier.Transform data, reuseRowObject = false) |> Seq.map _.Score |> Array.ofSeq
    [| for score, row in Array.zip scores (Array.ofList rows) -> -log (max 1e-30 (float score[List.findIndex ((=) row.Label) names])) |]

let runOnce (method: Method) (targetEpsilon: float) (seed: int) : RunRow =
    let privacy =
        match method with
        | NonPrivate -> null
        | DpSgd -> DifferentialPrivacy(targetEpsilon, Delta = 1e-5)
        | Rldp -> DifferentialPrivacy(targetEpsilon, Delta = 1e-5, Clipping = ClippingLayout.PerLayer, Controller = RldpController(Interval = pick 2 10))
    let options =
        TextClassificationOptions(
            Model = TransformerConfig(layerCount = pick 1 2, headCount = pick 2 4, channels = pick 16 64, contextLength = pick 32 128),
            MaximumSequenceLength = pick 32 128,
            BatchSize = pick 16 64,
            Steps = Nullable(pick 6L 60L),
            LearningRateSchedule = Func<int64, ISchedule>(fun steps -> CosineSchedule(2e-3, steps, warmupSteps = steps / 10L)),
            Seed = Nullable seed,
            ThreadCount = Nullable(Experiment.threadCount ()),
            ValidationSet = reward,
            Privacy = privacy)
    let classifier = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(train)
    let metrics = context.MulticlassClassification.Evaluate(classifier.Transform test)
    let auc = lossThresholdAuc (losses classifier train trainRows) (losses classifier test testRows)
    let row =
        { Setting = (if isNull privacy then "NonPrivate @ inf" else $"{method} @ {targetEpsilon}")
          Method = string method
          TargetEpsilon = (if isNull privacy then nan else targetEpsilon)
          Seed = seed
          Epsilon = (match classifier.Privacy with null -> infinity | guarantee -> guarantee.Epsilon)
          Accuracy = metrics.MicroAccuracy
          LogLoss = metrics.LogLoss
          MembershipAuc = auc }
    printfn "%-10s target %5.1f seed %d | epsilon %.3f accuracy %.3f log-loss %.3f attack AUC %.3f" row.Method row.TargetEpsilon seed row.Epsilon row.Accuracy row.LogLoss row.MembershipAuc
    row

let epsilons = pick [ 3.0 ] [ 1.0; 3.0; 8.0 ]
let seeds = pick [ 1 ] [ 1; 2 ]
let runs =
    [ for seed in seeds do
          yield runOnce NonPrivate nan seed
          for epsilon in epsilons do
              yield runOnce DpSgd epsilon seed
              yield runOnce Rldp epsilon seed ]
let frame = Frames.ofRecords runs
Frames.saveCsv (Path.Combine(output, "runs.csv")) frame

// Mean and spread per setting (method @ target epsilon), aggregated by Deedle.
let perSetting (aggregate: Series<int, float> -> float) (suffix: string) =
    let columns = [ "Epsilon"; "Accuracy"; "MembershipAuc" ]
    let aggregated = frame |> Frame.aggregateRowsBy [ "Setting" ] columns aggregate |> Frame.indexRowsString "Setting"
    aggregated |> Frame.mapColKeys (fun column -> column + suffix)
let spread (values: Series<int, float>) = if values.KeyCount > 1 then Stats.stdDev values else 0.0
let summary = Frame.join JoinKind.Inner (perSetting Stats.mean "") (perSetting spread "Sd" |> Frame.dropCol "EpsilonSd")
printfn ""
Frames.print summary
Frames.saveCsvWithKeys "Setting" (Path.Combine(output, "summary.csv")) summary

// Accuracy and attack AUC against log epsilon, one line per private method; the non-private run as a flat line.
let points (methodName: string) (column: string) =
    [ for epsilon in epsilons -> log epsilon, summary.GetColumn<float>(column).[$"{methodName} @ {epsilon}"] ]
let nonPrivate (column: string) = summary.GetColumn<float>(column).["NonPrivate @ inf"]
[ for methodName in [ "DpSgd"; "Rldp" ] do
      yield $"{methodName} accuracy", points methodName "Accuracy"
      yield $"{methodName} attack AUC", points methodName "MembershipAuc"
  yield "NonPrivate accuracy", [ for epsilon in epsilons -> log epsilon, nonPrivate "Accuracy" ]
  yield "NonPrivate attack AUC", [ for epsilon in epsilons -> log epsilon, nonPrivate "MembershipAuc" ] ]
|> Charts.line "Spam fine-tuning under differential privacy" "ln(target epsilon)" "accuracy / attack AUC"
|> Charts.save (Path.Combine(output, "privacy.svg"))
printfn "wrote runs.csv, summary.csv and privacy.svg/.png to %s" output
