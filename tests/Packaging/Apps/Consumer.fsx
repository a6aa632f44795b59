// The F# consumer of the packaging test (tests/Packaging/PackageConsumerTests.cs): a brand-new script run with
// `dotnet fsi` OUTSIDE the repository, referencing the packed packages from a local folder (the test fills in the
// folder and the version): stock ML.NET (MapValueToKey) + our BPE + a few fine-tuning steps, with the options built by
// the F# helpers (Pipelines.Scripts) + Model.Save + Model.Load + a prediction engine, on the managed engine.
// Prints "trained LABEL SCORE SCORE" and "reloaded LABEL SCORE SCORE" for each probe text.
#i "nuget: PACKAGES_FOLDER"
#r "nuget: Pipelines.Estimators, PACKAGES_VERSION"
#r "nuget: Pipelines.Scripts, PACKAGES_VERSION"

open System
open System.Globalization
open System.IO
open Microsoft.ML
open Microsoft.ML.Data
open Pipelines
open Pipelines.Scripts

[<CLIMutable>]
type Message = { Label: string; Text: string }

[<CLIMutable>]
type Prediction = { PredictedLabel: string; Score: float32[] }

let corpus =
    [ "spam", "win a free prize now"; "ham", "lunch at noon tomorrow?"
      "spam", "click here for free money"; "ham", "the meeting moved to monday"
      "spam", "you won a free cruise, call now"; "ham", "thanks for the notes from class"
      "spam", "cheap pills, free shipping"; "ham", "can you send me the report"
      "spam", "claim your free prize today"; "ham", "see you at the game tonight"
      "spam", "free money, click now"; "ham", "mum says dinner is at seven" ]
    |> List.map (fun (label, text) -> { Label = label; Text = text })
let probes = [ "win a free prize now, click here"; "see you at the meeting on monday" ]

let context = MLContext(seed = 1)
let data = context.Data.LoadFromEnumerable corpus
let options =
    { ClassifierOptions.defaults with
        Layers = 1; Heads = 2; Channels = 16; MaximumSequenceLength = 32; BatchSize = 4; Steps = Some 6L; ThreadCount = Some 1 }
    |> ClassifierOptions.toEstimatorOptions
let pipeline =
    EstimatorChain<ITransformer>()
        .Append(context.Transforms.Conversion.MapValueToKey("Label"))
        .Append(context.Transforms.Text.TrainBytePairEncoding(vocabularySize = 300))
        .Append(context.MulticlassClassification.Trainers.TextClassifier(options))
        .Append(context.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
let model = pipeline.Fit data
let path = Path.Combine(__SOURCE_DIRECTORY__, "model.zip")
context.Model.Save(model, data.Schema, path)

let show (mode: string) (model: ITransformer) (context: MLContext) =
    use engine = context.Model.CreatePredictionEngine<Message, Prediction>(model)
    for text in probes do
        let prediction = engine.Predict { Label = ""; Text = text }
        let scores = prediction.Score |> Array.map (fun score -> score.ToString("R", CultureInfo.InvariantCulture))
        printfn "%s" (String.Join(" ", Array.append [| mode; prediction.PredictedLabel |] scores))

show "trained" (model :> ITransformer) context
let fresh = MLContext(seed = 2)
let reloaded, _ = fresh.Model.Load(path)
show "reloaded" reloaded fresh
