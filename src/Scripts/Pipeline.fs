namespace Pipelines.Scripts

open System
open System.Diagnostics
open Microsoft.ML
open Microsoft.ML.Data
open Microsoft.ML.Transforms
open Pipelines
open Pipelines.Components.Training
open Pipelines.FineTuning
open Pipelines.Pretraining
open Pipelines.Text

/// A pipeline step ready to be fitted: how it trains (on training data, optionally validation data, reporting
/// progress), how its progress is printed, and how to read the per-step history off the fitted model.
type Trainer<'Model> =
    {
        /// The label of its progress lines and summaries.
        Name: string
        /// How often progress lines are printed.
        Progress: ProgressReport
        /// Fits the model: training data, validation data, progress sink.
        Train: IDataView -> IDataView option -> IProgress<TrainingProgress> -> 'Model
        /// The per-step metrics of a fitted model (empty for steps that do not train iteratively).
        History: 'Model -> StepMetrics list
    }

/// A fitted model with what its training measured.
type Fitted<'Model> =
    {
        /// The trainer's name.
        Name: string
        /// The fitted transformer (or chain).
        Model: 'Model
        /// Per-step training loss, learning rate and validation loss (when measured).
        History: StepMetrics list
        /// Wall time of the fit.
        Elapsed: TimeSpan
    }

/// F# builders over ML.NET estimators, ours and ML.NET's own:
/// <c>Pipeline.fineTuneClassifier mlContext options |> Pipeline.fit train validation</c>.
[<RequireQualifiedAccess>]
module Pipeline =
    /// A step from any estimator: fitted on the training data alone, with no progress and no history.
    let ofEstimator (name: string) (estimator: IEstimator<'Model>) : Trainer<'Model> =
        { Name = name
          Progress = Quiet
          Train = fun train _ _ -> estimator.Fit train
          History = fun _ -> [] }

    /// Maps the values of <paramref name="column"/> to an ML.NET key column of the same name
    /// (<c>mlContext.Transforms.Conversion.MapValueToKey</c>): the classifier's label must be a key.
    let mapValueToKey (context: MLContext) (column: string) : Trainer<ValueToKeyMappingTransformer> =
        context.Transforms.Conversion.MapValueToKey(column) |> ofEstimator $"{column} to key"

    /// Learns a byte-level BPE tokenizer from the <c>Text</c> column and adds the token keys (id + 1) as <c>Tokens</c>, as
    /// <paramref name="options"/> say (<c>mlContext.Transforms.Text.TrainBytePairEncoding</c>; arXiv 1508.07909).
    /// <exception cref="System.ArgumentOutOfRangeException">The vocabulary cannot hold the byte and special tokens.</exception>
    let trainTokenizerWith (context: MLContext) (options: BytePairEncodingOptions) : Trainer<BytePairEncodingTransformer> =
        context.Transforms.Text.TrainBytePairEncoding(options) |> ofEstimator "tokenizer"

    /// Learns a byte-level BPE tokenizer of at most <paramref name="vocabularySize"/> tokens (the 256 bytes, the merges
    /// and <c>&lt;|endoftext|&gt;</c>) from the <c>Text</c> column and adds the token keys as <c>Tokens</c>.
    /// <exception cref="System.ArgumentOutOfRangeException">A vocabulary of 256 tokens or fewer.</exception>
    let trainTokenizer (context: MLContext) (vocabularySize: int) : Trainer<BytePairEncodingTransformer> =
        trainTokenizerWith context (BytePairEncodingOptions(VocabularySize = vocabularySize))

    /// Pre-trains a GPT on the <c>Tokens</c> column by next-token prediction (<c>mlContext.Pretraining().CausalLanguageModel</c>;
    /// GPT-2); the validation data and the progress sink of the fit go into the estimator's options. The options are checked here.
    /// <exception cref="System.ArgumentOutOfRangeException">Options out of range or not fitting together, naming the option.</exception>
    let pretrainLanguageModel (context: MLContext) (options: LanguageModelOptions) : Trainer<CausalLanguageModelTransformer> =
        ignore (LanguageModelOptions.toEstimatorOptions options)
        { Name = "pre-train"
          Progress = ConsoleProgress.defaultReport
          Train =
            fun train validation progress ->
                let estimatorOptions = LanguageModelOptions.toEstimatorOptionsWith validation (Some progress) options
                context.Pretraining().CausalLanguageModel(estimatorOptions).Fit(train)
          History = fun model -> List.ofSeq model.TrainingHistory }

    /// Fine-tunes a transformer encoder to predict the key column <c>Label</c> from <c>Tokens</c>
    /// (<c>mlContext.MulticlassClassification.Trainers.TextClassifier</c>; arXiv 1810.04805), adding <c>PredictedLabel</c>
    /// (a key) and <c>Score</c>; the validation data and the progress sink of the fit go into the estimator's options.
    /// <exception cref="System.ArgumentOutOfRangeException">Options out of range or not fitting together, naming the option.</exception>
    let fineTuneClassifier (context: MLContext) (options: ClassifierOptions) : Trainer<TextClassificationTransformer> =
        ignore (ClassifierOptions.toEstimatorOptions options)
        { Name = "fine-tune"
          Progress = ConsoleProgress.defaultReport
          Train =
            fun train validation progress ->
                let estimatorOptions = ClassifierOptions.toEstimatorOptionsWith validation (Some progress) options
                context.MulticlassClassification.Trainers.TextClassifier(estimatorOptions).Fit(train)
          History =
            fun model ->
                match model.TrainingResult with
                | null -> []
                | result -> List.ofSeq result.History }

    /// The same step under another name (the label of its progress lines).
    let named (name: string) (trainer: Trainer<'Model>) : Trainer<'Model> = { trainer with Name = name }

    /// The same step printing progress as <paramref name="report"/> says.
    let withProgress (report: ProgressReport) (trainer: Trainer<'Model>) : Trainer<'Model> = { trainer with Progress = report }

    /// Fits <paramref name="first"/>, runs the training (and validation) data through it, fits <paramref name="second"/>
    /// on the result, and returns both as one flat chain (as ML.NET's <c>Append</c>). Progress and history are the second's.
    let andThen
        (second: Trainer<'Second>)
        (first: Trainer<'First>)
        : Trainer<TransformerChain<'Second>> when 'First :> ITransformer and 'Second :> ITransformer and 'Second: not struct =
        let flatten (transformer: ITransformer) : ITransformer list =
            match transformer with
            | :? (ITransformer seq) as chain -> List.ofSeq chain
            | single -> [ single ]
        { Name = second.Name
          Progress = second.Progress
          Train =
            fun train validation progress ->
                let firstModel = first.Train train validation (ConsoleProgress.create first.Name first.Progress)
                let secondModel =
                    second.Train (firstModel.Transform train) (validation |> Option.map firstModel.Transform) progress
                new TransformerChain<'Second>(Array.ofList (flatten firstModel @ [ secondModel :> ITransformer ]))
          History = fun chain -> second.History chain.LastTransformer }

    let private run (train: IDataView) (validation: IDataView option) (trainer: Trainer<'Model>) : Fitted<'Model> =
        let clock = Stopwatch.StartNew()
        let model = trainer.Train train validation (ConsoleProgress.create trainer.Name trainer.Progress)
        let history = trainer.History model
        if trainer.Progress <> Quiet then
            printfn "%s | fitted in %.1f s (%d steps)" trainer.Name clock.Elapsed.TotalSeconds history.Length
        { Name = trainer.Name
          Model = model
          History = history
          Elapsed = clock.Elapsed }

    /// Fits the step on <paramref name="train"/>, evaluating on <paramref name="validation"/> as it goes, printing progress.
    let fit (train: IDataView) (validation: IDataView) (trainer: Trainer<'Model>) : Fitted<'Model> =
        run train (Some validation) trainer

    /// Fits the step on <paramref name="train"/> alone, printing progress.
    let fitWithoutValidation (train: IDataView) (trainer: Trainer<'Model>) : Fitted<'Model> = run train None trainer

    /// Runs data through a fitted model (lazily, as <c>ITransformer.Transform</c>).
    let transform (data: IDataView) (model: #ITransformer) : IDataView = model.Transform data

    /// ML.NET's multiclass metrics (accuracy, log-loss, the confusion matrix, ...; macro-F1 through
    /// <c>ClassifierMetrics.macroF1</c>) of a classifier, or a chain ending in one, on data with a key <c>Label</c>
    /// (<c>mlContext.MulticlassClassification.Evaluate</c> on its <c>Score</c> and <c>PredictedLabel</c>).
    let evaluateClassifier (context: MLContext) (data: IDataView) (model: #ITransformer) : MulticlassClassificationMetrics =
        context.MulticlassClassification.Evaluate(model.Transform data)
