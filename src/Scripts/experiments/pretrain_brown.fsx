// Pre-trains a byte-level BPE tokenizer and a small GPT on the shipped Brown corpus (samples/data/brown), then
// evaluates it on the held-out documents in bits per byte against the byte-unigram baseline and samples some text.
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/pretrain_brown.fsx                          (full: several minutes on 2 cores)
//   PIPELINES_BUDGET=tiny dotnet fsi src/Scripts/experiments/pretrain_brown.fsx    (smoke run, well under a minute)
//
// Writes to $PIPELINES_OUTPUT, else artifacts/experiments/pretrain_brown/:
//   summary.csv     one row: model shape, steps, validation loss, perplexity, bits per byte, baseline, time
//   history.csv     per-step training loss, learning rate and validation loss
//   loss-curve.svg, .png  training and validation loss
//   samples.txt     continuations of a few prompts

#load "prelude.fsx"

open Microsoft.ML
open Pipelines
open Pipelines.Components.Models
open Pipelines.Scripts
open System
open System.IO

let name = "pretrain_brown"
let budget = Experiment.budget ()
let output = Experiment.outputDirectory name
Experiment.announce name budget
let pick tiny full = Experiment.pick budget tiny full

// Data: one document per row (a Text column); the tiny budget keeps the first documents only.
let context = MLContext(seed = 42)
let trainDocuments = Data.brownDocuments Train |> List.truncate (pick 40 Int32.MaxValue)
let validationDocuments = Data.brownDocuments Validation |> List.truncate (pick 6 Int32.MaxValue)
let train = Data.documents trainDocuments |> Data.load context
let validation = Data.documents validationDocuments |> Data.load context
printfn "%d training and %d validation documents" trainDocuments.Length validationDocuments.Length

// The full budget is the QuickStart's measured setting (2 layers beat 4 at this budget; 1e-3 beat 5e-4 ... 1e-2).
let options =
    { LanguageModelOptions.defaults with
        Layers = pick 1 2
        Heads = pick 2 4
        Channels = pick 32 128
        ContextLength = pick 64 128
        BatchSize = 8
        Steps = pick 60L 1000L
        LearningRate = pick 3e-3 1e-3
        EvaluationInterval = pick 20 100
        EvaluationBatches = pick 2 4
        Seed = Some 1
        ThreadCount = Some(Experiment.threadCount ()) }

// Text in, tokens in between, a language model out: one chain, fitted on the training text (the validation text goes
// through the fitted tokenizer into the language model's options).
let fitted =
    Pipeline.trainTokenizer context (pick 512 2048)
    |> Pipeline.andThen (Pipeline.pretrainLanguageModel context options |> Pipeline.named "gpt")
    |> Pipeline.fit train validation

let metrics = fitted.Model |> LanguageModel.evaluate validation
let baseline = validationDocuments |> String.concat "\n\n" |> LanguageModel.unigramBitsPerByte
printfn "validation: %s" (LanguageModel.format metrics)
printfn "byte-unigram baseline: %.4f bits/byte" baseline

/// The row of summary.csv.
type Summary =
    { Layers: int
      Channels: int
      ContextLength: int
      VocabularySize: int
      Steps: int
      ValidationLoss: float
      Perplexity: float
      BitsPerByte: float
      UnigramBitsPerByte: float
      Seconds: float }

let summary =
    { Layers = options.Layers
      Channels = options.Channels
      ContextLength = options.ContextLength
      VocabularySize = fitted.Model.LastTransformer.Config.VocabularySize
      Steps = fitted.History.Length
      ValidationLoss = metrics.Loss
      Perplexity = metrics.Perplexity
      BitsPerByte = metrics.BitsPerByte.GetValueOrDefault nan
      UnigramBitsPerByte = baseline
      Seconds = fitted.Elapsed.TotalSeconds }

Table.print [ summary ]
Frames.ofRecords [ summary ] |> Frames.saveCsv (Path.Combine(output, "summary.csv"))
Csv.write (Path.Combine(output, "history.csv")) fitted.History
[ ("GPT", fitted.History) ]
|> Charts.lossCurves "Brown pre-training: loss"
|> Charts.save (Path.Combine(output, "loss-curve.svg"))

let samples =
    [ for prompt in [ "The jury said"; "In the morning, she"; "The President of the United States" ] ->
          let continuation = fitted.Model |> LanguageModel.generate (GenerationOptions(Seed = 7UL)) (pick 20 40) prompt
          prompt + "|" + continuation.ReplaceLineEndings " " ]
samples |> List.iter (printfn "sample: %s")
File.WriteAllLines(Path.Combine(output, "samples.txt"), samples)
printfn "wrote summary.csv, history.csv, loss-curve.svg/.png and samples.txt to %s" output
