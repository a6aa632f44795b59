namespace Pipelines.Scripts

open System
open System.Globalization
open Microsoft.ML
open Microsoft.ML.Data
open Pipelines
open Pipelines.Components.Backends
open Pipelines.Components.Models
open Pipelines.Components.Optimization
open Pipelines.Components.Schedules
open Pipelines.Components.Training
open Pipelines.FineTuning

/// Options of a text-classifier fine-tuning run, an F# record (copy with <c>{ ClassifierOptions.defaults with ... }</c>)
/// mapped onto <see cref="T:Pipelines.FineTuning.TextClassificationOptions"/> by <c>ClassifierOptions.toEstimatorOptions</c>.
/// The columns are ML.NET's defaults: <c>Tokens</c> (the tokenizer's keys) and <c>Label</c> (a key column: map it with
/// <c>Pipeline.mapValueToKey</c> first).
type ClassifierOptions =
    {
        /// Tokens the model knows; None (the default) takes the token column's key count, the tokenizer's vocabulary.
        VocabularySize: int option
        /// Transformer blocks.
        Layers: int
        /// Attention heads per block (must divide <c>Channels</c>).
        Heads: int
        /// Width of the residual stream.
        Channels: int
        /// Longest sequence fed to the model (also its context length); longer ones keep their first tokens.
        MaximumSequenceLength: int
        /// Sequences per step.
        BatchSize: int
        /// Passes over the training data; ignored when <c>Steps</c> is set.
        Epochs: float
        /// Number of updates, replacing <c>Epochs</c> when set.
        Steps: int64 option
        /// Peak learning rate of the warm-up + cosine schedule.
        LearningRate: float
        /// Fraction of the steps spent warming up linearly, in [0, 1).
        WarmupFraction: float
        /// AdamW's decoupled weight decay on matrices (arXiv 1711.05101).
        WeightDecay: float
        /// Clip the gradient's global norm to this value, when set.
        GradientClipNorm: float option
        /// Evaluate on the validation data every this many steps (0: only after the last step).
        EvaluationInterval: int
        /// Seed of the weights and the batches; None draws one from the MLContext.
        Seed: int option
        /// Threads of the engine; None uses every processor.
        ThreadCount: int option
        /// What runs the model: None is the managed engine; e.g. <c>Some(TorchSharpBackend "cpu" :> ITrainingBackend)</c>
        /// (from <c>Pipelines.Components.TorchSharp</c>, referenced by the script) fine-tunes with libtorch (not LoRA or privacy).
        Backend: ITrainingBackend option
        /// Pre-trained GPT weights (safetensors) to start the encoder from; None starts from random weights.
        PretrainedWeightsPath: string option
    }

/// Building and mapping <see cref="T:Pipelines.Scripts.ClassifierOptions"/>.
[<RequireQualifiedAccess>]
module ClassifierOptions =
    let private estimatorDefaults = TextClassificationOptions()

    /// The estimator's defaults: 2 layers, 4 heads, width 64, sequences of 128, batch 16, 3 epochs, AdamW at 1e-3
    /// with 10% warm-up and a cosine decay, weight decay 0.01, the vocabulary of the token column.
    let defaults: ClassifierOptions =
        { VocabularySize = Option.ofNullable estimatorDefaults.VocabularySize
          Layers = estimatorDefaults.Model.LayerCount
          Heads = estimatorDefaults.Model.HeadCount
          Channels = estimatorDefaults.Model.Channels
          MaximumSequenceLength = estimatorDefaults.MaximumSequenceLength
          BatchSize = estimatorDefaults.BatchSize
          Epochs = estimatorDefaults.Epochs
          Steps = None
          LearningRate = TextClassificationOptions.DefaultLearningRate
          WarmupFraction = 0.1
          WeightDecay = 0.01
          GradientClipNorm = None
          EvaluationInterval = estimatorDefaults.EvaluationInterval
          Seed = None
          ThreadCount = None
          Backend = None
          PretrainedWeightsPath = None }

    /// The schedule of a run of <paramref name="totalSteps"/>: linear warm-up to the peak, then a cosine decay to 0.
    /// <exception cref="System.ArgumentOutOfRangeException">A warm-up fraction outside [0, 1).</exception>
    let schedule (options: ClassifierOptions) (totalSteps: int64) : ISchedule =
        if not (options.WarmupFraction >= 0.0 && options.WarmupFraction < 1.0) then
            raise (ArgumentOutOfRangeException("WarmupFraction", options.WarmupFraction, "Must be in [0, 1)."))
        CosineSchedule(options.LearningRate, totalSteps, warmupSteps = int64 (options.WarmupFraction * float totalSteps))

    /// The estimator's options record with a validation set and a progress sink (what a fit inside a chain needs, as
    /// ML.NET's own trainers take them); each value is checked here (a bad one throws naming the option).
    /// <exception cref="System.ArgumentOutOfRangeException">A value out of range, naming the option.</exception>
    let toEstimatorOptionsWith
        (validation: IDataView option)
        (progress: IProgress<TrainingProgress> option)
        (options: ClassifierOptions)
        : TextClassificationOptions =
        ignore (schedule options 1L)
        let clipNorm = options.GradientClipNorm |> Option.toNullable
        TextClassificationOptions(
            Model =
                TransformerConfig(
                    layerCount = options.Layers,
                    headCount = options.Heads,
                    channels = options.Channels,
                    contextLength = options.MaximumSequenceLength
                ),
            VocabularySize = Option.toNullable options.VocabularySize,
            MaximumSequenceLength = options.MaximumSequenceLength,
            BatchSize = options.BatchSize,
            Epochs = options.Epochs,
            Steps = Option.toNullable options.Steps,
            LearningRateSchedule = Func<int64, ISchedule>(schedule options),
            Optimizer =
                Func<ISchedule, IGradientTransform>(fun rate ->
                    Optimizers.AdamW(rate, weightDecay = options.WeightDecay, clipNorm = clipNorm)),
            EvaluationInterval = options.EvaluationInterval,
            Seed = Option.toNullable options.Seed,
            ThreadCount = Option.toNullable options.ThreadCount,
            Backend = Option.toObj options.Backend,
            PretrainedWeightsPath = Option.toObj options.PretrainedWeightsPath,
            ValidationSet = Option.toObj validation,
            Progress = Option.toObj progress
        )

    /// The estimator's options record, without validation data or progress; each value is checked here.
    /// <exception cref="System.ArgumentOutOfRangeException">A value out of range, naming the option.</exception>
    let toEstimatorOptions (options: ClassifierOptions) : TextClassificationOptions = toEstimatorOptionsWith None None options

/// Reading ML.NET's multiclass metrics (<c>mlContext.MulticlassClassification.Evaluate</c>), with macro-F1 from its
/// confusion matrix (<c>MulticlassMetricsExtensions.MacroF1</c>).
[<RequireQualifiedAccess>]
module ClassifierMetrics =
    /// Macro-F1: the mean per-class F1 over the classes that occur as a label or a prediction.
    let macroF1 (metrics: MulticlassClassificationMetrics) : float = metrics.MacroF1()

    /// One line: accuracy (micro), macro-F1 and log-loss, e.g. <c>accuracy 93.50 % | macro-F1 0.9349 | log-loss 0.1972</c>.
    let format (metrics: MulticlassClassificationMetrics) : string =
        String.Format(
            CultureInfo.InvariantCulture,
            "accuracy {0:P2} | macro-F1 {1:F4} | log-loss {2:F4}",
            metrics.MicroAccuracy,
            macroF1 metrics,
            metrics.LogLoss)

    /// The confusion matrix as ML.NET prints it (rows: labels, columns: predictions, with precision and recall).
    let confusionTable (metrics: MulticlassClassificationMetrics) : string =
        metrics.ConfusionMatrix.GetFormattedConfusionTable()
