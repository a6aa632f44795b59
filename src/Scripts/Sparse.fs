namespace Pipelines.Scripts

open System
open Microsoft.ML
open Pipelines
open Pipelines.Experiments
open Pipelines.Components.Models
open Pipelines.Components.Sparsity
open Pipelines.Components.Training
open Pipelines.Sparsity

/// How far a sparse pre-training run prunes.
type SparsityTarget =
    /// s_f, the pruned fraction of the linear weights at the end, in [0, 1).
    | FinalSparsity of sparsity: float
    /// The run's Nbar = (1/T) Σ_t N(t) (for example a dense model's parameter count); s_f is solved for the schedule.
    | AverageParameterCount of count: float

/// When and how a sparse pre-training run prunes its linear weights (copy with <c>{ PruningPlan.defaults with ... }</c>);
/// mapped onto <see cref="T:Pipelines.Sparsity.SparsePretrainingOptions"/> by <c>PruningPlan.toEstimatorOptions</c>.
type PruningPlan =
    {
        /// The final sparsity, or the Nbar to reach.
        Target: SparsityTarget
        /// Where pruning starts, as a fraction of the run.
        StartFraction: float
        /// Where the final sparsity is reached, as a fraction of the run.
        EndFraction: float
        /// Prune every this many steps; None is 2% of the run.
        Interval: int64 option
        /// The shape of the ramp.
        Schedule: SparsityScheduleKind
        /// Which weights compete for pruning.
        Criterion: PruningCriterionKind
    }

/// Building and mapping <see cref="T:Pipelines.Scripts.PruningPlan"/>.
[<RequireQualifiedAccess>]
module PruningPlan =
    /// The estimator's defaults: 50% of the linear weights pruned layer by layer on a cubic ramp from 25% to 75% of the run
    /// (Zhu &amp; Gupta, arXiv 1710.01878), every 2% of the run.
    let defaults: PruningPlan =
        let estimator = SparsePretrainingOptions()
        { Target = FinalSparsity estimator.FinalSparsity
          StartFraction = estimator.StartFraction
          EndFraction = estimator.EndFraction
          Interval = Option.ofNullable estimator.PruningInterval
          Schedule = estimator.Schedule
          Criterion = estimator.Criterion }

    /// A cubic ramp from <paramref name="start"/> to <paramref name="finish"/> (fractions of the run) reaching <paramref name="target"/>.
    let between (start: float) (finish: float) (target: SparsityTarget) : PruningPlan =
        { defaults with
            Target = target
            StartFraction = start
            EndFraction = finish }

    /// The estimator's options: the pre-training run of <paramref name="pretraining"/> (with a validation set and a
    /// progress sink, as <c>LanguageModelOptions.toEstimatorOptionsWith</c>) and this plan; each value is checked here.
    /// <exception cref="System.ArgumentOutOfRangeException">A value out of range, naming the option.</exception>
    let toEstimatorOptionsWith
        (validation: IDataView option)
        (progress: IProgress<TrainingProgress> option)
        (pretraining: LanguageModelOptions)
        (plan: PruningPlan)
        : SparsePretrainingOptions =
        let finalSparsity, targetAverage =
            match plan.Target with
            | FinalSparsity sparsity -> sparsity, Nullable()
            | AverageParameterCount count -> SparsePretrainingOptions().FinalSparsity, Nullable count
        SparsePretrainingOptions(
            LanguageModelOptions.toEstimatorOptionsWith validation progress pretraining,
            FinalSparsity = finalSparsity,
            TargetAverageParameterCount = targetAverage,
            StartFraction = plan.StartFraction,
            EndFraction = plan.EndFraction,
            PruningInterval = Option.toNullable plan.Interval,
            Schedule = plan.Schedule,
            Criterion = plan.Criterion
        )

    /// The estimator's options: the pre-training run of <paramref name="pretraining"/> and this plan, without validation
    /// data or progress; each value is checked here.
    /// <exception cref="System.ArgumentOutOfRangeException">A value out of range, naming the option.</exception>
    let toEstimatorOptions (pretraining: LanguageModelOptions) (plan: PruningPlan) : SparsePretrainingOptions =
        toEstimatorOptionsWith None None pretraining plan

/// What a pre-training run, dense or sparse, ended with (a row of a comparison table).
type SparseRunSummary =
    {
        /// The run's name.
        Run: string
        /// "dense", or the pruning schedule, e.g. "cubic 25%-75%".
        Schedule: string
        /// Transformer blocks.
        Layers: int
        /// Width of the residual stream.
        Channels: int
        /// N: every parameter of the model.
        ParameterCount: int64
        /// s_f of the linear weights (0 when dense; solved when the plan targets an Nbar).
        FinalSparsity: float
        /// Unpruned parameters at the end: the size of the trained model.
        FinalNonZeroCount: int64
        /// Nbar = (1/T) Σ_t N(t).
        AverageParameterCount: float
        /// Updates.
        Steps: int64
        /// Training tokens seen.
        Tokens: int64
        /// The validation loss of the last step (nats per token, on the run's fixed evaluation windows).
        FinalValidationLoss: float
        /// Wall time of the fit, in seconds.
        Seconds: float
    }

/// Sparse pre-training (arXiv 2501.12486) through <c>mlContext.Sparsity().SparsePretraining</c>: a bigger model pruned
/// during pre-training, compared with a dense one by its average parameter count Nbar.
[<RequireQualifiedAccess>]
module Sparse =
    /// N, the prunable linear weights P and the embeddings of the GPT <paramref name="options"/> describe over a
    /// vocabulary of <paramref name="vocabularySize"/> tokens (before training: e.g. to match Nbar to a dense size).
    let parameterCounts (vocabularySize: int) (options: LanguageModelOptions) : ModelParameterCounts =
        TransformerConfig(options.Layers, options.Heads, options.Channels, options.ContextLength, vocabularySize)
        |> SparsePretrainingExperiment.CountParameters

    /// The schedules sparse pre-training compares, each reaching <paramref name="target"/>: the paper's cubic 25%-75%
    /// ("sparse-25-75"), pruning early, 0%-50% ("early-0-50"), and pruning late, 50%-100% ("late-50-100").
    let standardPlans (target: SparsityTarget) : (string * PruningPlan) list =
        [ "sparse-25-75", PruningPlan.between 0.25 0.75 target
          "early-0-50", PruningPlan.between 0.0 0.5 target
          "late-50-100", PruningPlan.between 0.5 1.0 target ]

    /// Pre-trains a GPT on the <c>Tokens</c> column as <paramref name="options"/> say while pruning it as
    /// <paramref name="plan"/> says (<c>mlContext.Sparsity().SparsePretraining</c>); the validation data and the progress
    /// sink of the fit go into the pre-training options. The options are checked here.
    /// <exception cref="System.ArgumentOutOfRangeException">Options out of range or not fitting together, naming the option.</exception>
    let pretrain (context: MLContext) (options: LanguageModelOptions) (plan: PruningPlan) : Trainer<SparsePretrainingTransformer> =
        ignore (PruningPlan.toEstimatorOptions options plan)
        { Name = "sparse pre-train"
          Progress = ConsoleProgress.defaultReport
          Train =
            fun train validation progress ->
                let estimatorOptions = PruningPlan.toEstimatorOptionsWith validation (Some progress) options plan
                context.Sparsity().SparsePretraining(estimatorOptions).Fit(train)
          History = fun model -> List.ofSeq model.LanguageModel.TrainingHistory }

    let private finalValidationLoss (history: StepMetrics list) =
        history
        |> List.tryFindBack (fun metrics -> metrics.ValidationLoss.HasValue)
        |> Option.map (fun metrics -> metrics.ValidationLoss.Value)
        |> Option.defaultValue nan

    let private tokens (model: Pipelines.Pretraining.CausalLanguageModelTransformer) =
        model.Training.Steps * int64 model.Training.BatchSize * int64 model.Training.SequenceLength

    /// The summary of a dense run (N(t) = N throughout).
    let summarizeDense (fitted: Fitted<Pipelines.Pretraining.CausalLanguageModelTransformer>) : SparseRunSummary =
        let model = fitted.Model
        { Run = fitted.Name
          Schedule = "dense"
          Layers = model.Config.LayerCount
          Channels = model.Config.Channels
          ParameterCount = model.ParameterCount
          FinalSparsity = 0.0
          FinalNonZeroCount = model.ParameterCount
          AverageParameterCount = float model.ParameterCount
          Steps = model.Training.Steps
          Tokens = tokens model
          FinalValidationLoss = finalValidationLoss fitted.History
          Seconds = fitted.Elapsed.TotalSeconds }

    /// The summary of a sparse run: its solved final sparsity, final non-zero count and Nbar.
    let summarizeSparse (fitted: Fitted<SparsePretrainingTransformer>) : SparseRunSummary =
        let model = fitted.Model
        let config = model.LanguageModel.Config
        { Run = fitted.Name
          Schedule = model.Sparsity.Schedule.ToLowerInvariant()
          Layers = config.LayerCount
          Channels = config.Channels
          ParameterCount = model.Sparsity.ParameterCount
          FinalSparsity = model.Sparsity.TargetFinalSparsity
          FinalNonZeroCount = model.Sparsity.FinalNonZeroCount
          AverageParameterCount = model.Sparsity.AverageParameterCount
          Steps = model.LanguageModel.Training.Steps
          Tokens = tokens model.LanguageModel
          FinalValidationLoss = finalValidationLoss fitted.History
          Seconds = fitted.Elapsed.TotalSeconds }

    /// N(t) of every step of a sparse run, as (step, count) points from step 1.
    let nonZeroCurve (model: SparsePretrainingTransformer) : (int64 * int64) list =
        model.NonZeroCounts |> Seq.mapi (fun index count -> int64 index + 1L, count) |> List.ofSeq
