namespace Pipelines.Scripts

open Microsoft.ML
open Pipelines.Experiments
open System
open System.Globalization
open System.IO
open System.Text
open Pipelines.Pretraining

/// A corpus as the token streams the Components-level experiment runners train on
/// (<see cref="T:Pipelines.Experiments.OptimizerTuningExperiment"/>, <see cref="T:Pipelines.Experiments.LossLawExperiment"/>).
type TokenCorpus =
    {
        /// The training documents' tokens, each document preceded by the end-of-text id.
        Training: int[]
        /// The validation documents' tokens, likewise.
        Validation: int[]
        /// The tokenizer's vocabulary (the model's).
        VocabularySize: int
        /// UTF-8 bytes of validation text per validation token: loss per token / this = loss per byte.
        ValidationBytesPerToken: float
    }

/// Token streams from the shipped corpora, through the BPE estimator (<c>mlContext.Transforms.Text.TrainBytePairEncoding</c>).
[<RequireQualifiedAccess>]
module Corpus =
    /// Joins documents into one stream as pre-training does: the end-of-text id, then the document's tokens, for each.
    let stream (endOfText: int) (encode: string -> int[]) (documents: string list) : int[] =
        [| for document in documents do
               yield endOfText
               yield! encode document |]

    /// Learns a byte-level BPE of <paramref name="vocabularySize"/> tokens on the first <paramref name="trainingDocuments"/>
    /// Brown training documents and encodes them and the first <paramref name="validationDocuments"/> validation documents.
    /// <exception cref="System.ArgumentOutOfRangeException">A vocabulary of 256 tokens or fewer.</exception>
    let brown (context: MLContext) (vocabularySize: int) (trainingDocuments: int) (validationDocuments: int) : TokenCorpus =
        let training = Data.brownDocuments Train |> List.truncate trainingDocuments
        let validation = Data.brownDocuments Validation |> List.truncate validationDocuments
        let tokenizer =
            Pipeline.trainTokenizer context vocabularySize
            |> Pipeline.withProgress Quiet
            |> Pipeline.fitWithoutValidation (Data.documents training |> Data.load context)
        let encoding = tokenizer.Model.Tokenizer
        let endOfText = encoding.GetSpecialTokenId CausalLanguageModelOptions.EndOfTextToken
        let validationTokens = stream endOfText encoding.Encode validation
        let validationBytes = validation |> List.sumBy (fun document -> Encoding.UTF8.GetByteCount document)
        { Training = stream endOfText encoding.Encode training
          Validation = validationTokens
          VocabularySize = encoding.VocabularySize
          ValidationBytesPerToken = float validationBytes / float validationTokens.Length }

/// Helpers for the Components-level pre-training experiments: progress lines and report files.
[<RequireQualifiedAccess>]
module Runs =
    /// One line per finished run: name, peak rate, final validation loss (or the step it diverged at), time.
    let format (run: PretrainingRunResult) : string =
        let outcome =
            match run.DivergedAtStep |> Option.ofNullable with
            | Some step -> $"diverged at step {step}"
            | None -> String.Format(CultureInfo.InvariantCulture, "final validation loss {0:F4}", run.FinalValidationLoss)
        String.Format(CultureInfo.InvariantCulture, "{0} | peak lr {1:G3} | {2} | {3:F0} s", run.Name, run.PeakLearningRate, outcome, run.Elapsed.TotalSeconds)

    /// A progress sink printing <c>format</c> for each finished run, at once (on the run's thread).
    let progress () : IProgress<PretrainingRunResult> =
        { new IProgress<PretrainingRunResult> with
            member _.Report run = Console.Out.WriteLine(format run) }

    /// Writes text (a report's CSV or markdown) to <c>directory/name</c>.
    let writeText (directory: string) (name: string) (text: string) : unit =
        File.WriteAllText(Path.Combine(directory, name), text)
