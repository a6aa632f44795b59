namespace Pipelines.Scripts

open System
open System.Globalization
open Microsoft.ML
open Microsoft.ML.Data
open Pipelines.Components.Backends
open Pipelines.Components.Models
open Pipelines.Components.Training
open Pipelines.Pretraining

/// Options of a GPT pre-training run, an F# record (copy with <c>{ LanguageModelOptions.defaults with ... }</c>) mapped
/// onto <see cref="T:Pipelines.Pretraining.CausalLanguageModelOptions"/> by <c>LanguageModelOptions.toEstimatorOptions</c>.
/// The vocabulary comes from the tokenizer that wrote the <c>Tokens</c> column.
type LanguageModelOptions =
    {
        /// Transformer blocks.
        Layers: int
        /// Attention heads per block (must divide <c>Channels</c>).
        Heads: int
        /// Width of the residual stream.
        Channels: int
        /// Context length, also the length of the training sequences.
        ContextLength: int
        /// Sequences per step.
        BatchSize: int
        /// Updates to make; ignored when <c>Epochs</c> is set.
        Steps: int64
        /// Passes over the training tokens, replacing <c>Steps</c> when set.
        Epochs: float option
        /// Peak learning rate of the warmup-stable-decay schedule (5% warm-up, linear decay over the last 20%).
        LearningRate: float
        /// AdamW's decoupled weight decay on matrices (arXiv 1711.05101).
        WeightDecay: float
        /// Clip the gradient's global norm to this value before the optimizer, when set.
        GradientClipNorm: float option
        /// Evaluate on the validation data every this many steps (0: only at the end).
        EvaluationInterval: int
        /// Validation batches per evaluation (the same fixed windows every time).
        EvaluationBatches: int
        /// Seed of the weights and the batch order; None draws one from the MLContext.
        Seed: int option
        /// Threads of the engine; None uses every processor.
        ThreadCount: int option
        /// What runs the model: None is the managed engine; e.g. <c>Some(TorchSharpBackend "cpu" :> ITrainingBackend)</c>
        /// (from <c>Pipelines.Components.TorchSharp</c>, referenced by the script) trains with libtorch.
        Backend: ITrainingBackend option
    }

/// Building and mapping <see cref="T:Pipelines.Scripts.LanguageModelOptions"/>.
[<RequireQualifiedAccess>]
module LanguageModelOptions =
    let private estimatorDefaults = CausalLanguageModelOptions()

    /// The estimator's defaults: a 2-layer, 4-head, 128-wide GPT with a 128-token context, batches of 8, 1,000 steps,
    /// AdamW at 1e-3 (weight decay 0.1, clipping at 1.0), evaluation every 100 steps on 8 batches.
    let defaults: LanguageModelOptions =
        { Layers = estimatorDefaults.Model.LayerCount
          Heads = estimatorDefaults.Model.HeadCount
          Channels = estimatorDefaults.Model.Channels
          ContextLength = estimatorDefaults.Model.ContextLength
          BatchSize = estimatorDefaults.BatchSize
          Steps = estimatorDefaults.Steps
          Epochs = Option.ofNullable estimatorDefaults.Epochs
          LearningRate = estimatorDefaults.LearningRate
          WeightDecay = estimatorDefaults.WeightDecay
          GradientClipNorm = Option.ofNullable estimatorDefaults.GradientClipNorm
          EvaluationInterval = estimatorDefaults.EvaluationInterval
          EvaluationBatches = estimatorDefaults.EvaluationBatches
          Seed = None
          ThreadCount = None
          Backend = None }

    /// The estimator's options record with a validation set (token keys, or raw <c>Text</c> encoded with the training
    /// column's tokenizer) and a progress sink, as ML.NET's own trainers take them; each value is checked here (a bad
    /// one throws naming the option).
    /// <exception cref="System.ArgumentOutOfRangeException">A value out of range, naming the option.</exception>
    let toEstimatorOptionsWith
        (validation: IDataView option)
        (progress: IProgress<TrainingProgress> option)
        (options: LanguageModelOptions)
        : CausalLanguageModelOptions =
        CausalLanguageModelOptions(
            Model =
                TransformerConfig(
                    layerCount = options.Layers,
                    headCount = options.Heads,
                    channels = options.Channels,
                    contextLength = options.ContextLength
                ),
            BatchSize = options.BatchSize,
            Steps = options.Steps,
            Epochs = Option.toNullable options.Epochs,
            LearningRate = options.LearningRate,
            WeightDecay = options.WeightDecay,
            GradientClipNorm = Option.toNullable options.GradientClipNorm,
            EvaluationInterval = options.EvaluationInterval,
            EvaluationBatches = options.EvaluationBatches,
            Seed = Option.toNullable options.Seed,
            ThreadCount = defaultArg options.ThreadCount Environment.ProcessorCount,
            Backend = Option.toObj options.Backend,
            ValidationSet = Option.toObj validation,
            Progress = Option.toObj progress
        )

    /// The estimator's options record, without validation data or progress; each value is checked here.
    /// <exception cref="System.ArgumentOutOfRangeException">A value out of range, naming the option.</exception>
    let toEstimatorOptions (options: LanguageModelOptions) : CausalLanguageModelOptions =
        toEstimatorOptionsWith None None options

/// Using a fitted text-in chain (a tokenizer, then a language model): generation, evaluation, baselines.
[<RequireQualifiedAccess>]
module LanguageModel =
    /// Continues <paramref name="prompt"/> by <paramref name="tokenCount"/> tokens (sampled as <paramref name="options"/> say;
    /// the same seed gives the same text) and returns the continuation.
    let generate
        (options: GenerationOptions)
        (tokenCount: int)
        (prompt: string)
        (chain: TransformerChain<'Last>)
        : string when 'Last :> ITransformer and 'Last: not struct =
        chain.GenerateText(prompt, tokenCount, options)

    /// Loss per token, perplexity and bits per byte of the chain's language model on text data (a <c>Text</c> column).
    let evaluate (data: IDataView) (chain: TransformerChain<'Last>) : LanguageModelMetrics when 'Last :> ITransformer and 'Last: not struct =
        chain.Evaluate(data)

    /// One line: e.g. <c>loss 4.1234 nats/token | perplexity 61.8 | 1.5321 bits/byte over 12,345 tokens</c>.
    let format (metrics: LanguageModelMetrics) : string =
        let bitsPerByte =
            if metrics.BitsPerByte.HasValue then
                String.Format(CultureInfo.InvariantCulture, " | {0:F4} bits/byte", metrics.BitsPerByte.Value)
            else
                ""
        String.Format(
            CultureInfo.InvariantCulture,
            "loss {0:F4} nats/token | perplexity {1:F1}{2} over {3:N0} tokens",
            metrics.Loss,
            metrics.Perplexity,
            bitsPerByte,
            metrics.TokenCount)

    /// The entropy of the text's UTF-8 bytes under their own unigram frequencies, <c>−Σ p(b) log₂ p(b)</c> bits per byte:
    /// the baseline a language model's bits per byte must beat to have learnt more than byte frequencies.
    /// <exception cref="System.ArgumentException">An empty text.</exception>
    let unigramBitsPerByte (text: string) : float =
        let bytes = System.Text.Encoding.UTF8.GetBytes text
        if bytes.Length = 0 then invalidArg (nameof text) "The text is empty."
        bytes
        |> Array.countBy id
        |> Array.sumBy (fun (_, count) ->
            let probability = float count / float bytes.Length
            -probability * Math.Log2 probability)
