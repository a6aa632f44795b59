namespace FSharp
namespace Pipelines.Scripts
    type Budget =
        | Tiny
        | Full
    [<RequireQualifiedAccess>]
    module Experiment =
        [<Literal>]
        val BudgetVariable: string = "PIPELINES_BUDGET"
        [<Literal>]
        val OutputVariable: string = "PIPELINES_OUTPUT"
        [<Literal>]
        val ThreadsVariable: string = "PIPELINES_THREADS"
        val parseBudget: text: string -> Budget
        val budget: unit -> Budget
        val pick: budget: Budget -> tiny: 'T -> full: 'T -> 'T
        val threadCountOr: fallback: int -> int
        val threadCount: unit -> int
        val repositoryRoot: unit -> string
        val outputDirectory: name: string -> string
        val announce: name: string -> budget: Budget -> unit
namespace Pipelines.Scripts
    type ProgressReport =
        | Quiet
        | EverySteps of steps: int
        | Lines of count: int
    [<RequireQualifiedAccess>]
    module ConsoleProgress =
        val defaultReport: ProgressReport
        val interval: report: ProgressReport -> totalSteps: int64 -> int64
        val shouldPrint:
          report: ProgressReport -> step: int64 -> totalSteps: int64 -> bool
        val format:
          label: string ->
            progress: Pipelines.Components.Training.TrainingProgress -> string
        val toWriter:
          writer: System.IO.TextWriter ->
            label: string ->
            report: ProgressReport ->
            System.IProgress<Pipelines.Components.Training.TrainingProgress>
        val create:
          label: string ->
            report: ProgressReport ->
            System.IProgress<Pipelines.Components.Training.TrainingProgress>
namespace Pipelines.Scripts
    type Split =
        | Train
        | Validation
    type LabeledText =
        {
          Label: string
          Text: string
        }
    type Document =
        { Text: string }
    [<RequireQualifiedAccess>]
    module Data =
        val samplesDirectory: unit -> string
        val readSpamFile: path: string -> LabeledText list
        val spam: split: Split -> LabeledText list
        val brown: split: Split -> string
        val brownDocuments: split: Split -> string list
        val documents: texts: string seq -> Document list
        val takePerLabel:
          count: int -> rows: LabeledText list -> LabeledText list
        val load:
          context: Microsoft.ML.MLContext ->
            rows: 'Row seq -> Microsoft.ML.IDataView when 'Row: not struct
namespace Pipelines.Scripts
    type ClassifierOptions =
        {
          VocabularySize: int option
          Layers: int
          Heads: int
          Channels: int
          MaximumSequenceLength: int
          BatchSize: int
          Epochs: float
          Steps: int64 option
          LearningRate: float
          WarmupFraction: float
          WeightDecay: float
          GradientClipNorm: float option
          EvaluationInterval: int
          Seed: int option
          ThreadCount: int option
          Backend: Pipelines.Components.Backends.ITrainingBackend option
          PretrainedWeightsPath: string option
        }
    [<RequireQualifiedAccess>]
    module ClassifierOptions =
        val defaults: ClassifierOptions
        val schedule:
          options: ClassifierOptions ->
            totalSteps: int64 -> Pipelines.Components.Schedules.ISchedule
        val toEstimatorOptionsWith:
          validation: Microsoft.ML.IDataView option ->
            progress: System.IProgress<Pipelines.Components.Training.TrainingProgress> option ->
            options: ClassifierOptions ->
            Pipelines.FineTuning.TextClassificationOptions
        val toEstimatorOptions:
          options: ClassifierOptions ->
            Pipelines.FineTuning.TextClassificationOptions
    [<RequireQualifiedAccess>]
    module ClassifierMetrics =
        val macroF1:
          metrics: Microsoft.ML.Data.MulticlassClassificationMetrics -> float
        val format:
          metrics: Microsoft.ML.Data.MulticlassClassificationMetrics -> string
        val confusionTable:
          metrics: Microsoft.ML.Data.MulticlassClassificationMetrics -> string
namespace Pipelines.Scripts
    type LanguageModelOptions =
        {
          Layers: int
          Heads: int
          Channels: int
          ContextLength: int
          BatchSize: int
          Steps: int64
          Epochs: float option
          LearningRate: float
          WeightDecay: float
          GradientClipNorm: float option
          EvaluationInterval: int
          EvaluationBatches: int
          Seed: int option
          ThreadCount: int option
          Backend: Pipelines.Components.Backends.ITrainingBackend option
        }
    [<RequireQualifiedAccess>]
    module LanguageModelOptions =
        val defaults: LanguageModelOptions
        val toEstimatorOptionsWith:
          validation: Microsoft.ML.IDataView option ->
            progress: System.IProgress<Pipelines.Components.Training.TrainingProgress> option ->
            options: LanguageModelOptions ->
            Pipelines.Pretraining.CausalLanguageModelOptions
        val toEstimatorOptions:
          options: LanguageModelOptions ->
            Pipelines.Pretraining.CausalLanguageModelOptions
    [<RequireQualifiedAccess>]
    module LanguageModel =
        val generate:
          options: Pipelines.Components.Models.GenerationOptions ->
            tokenCount: int ->
            prompt: string ->
            chain: Microsoft.ML.Data.TransformerChain<'Last> -> string
            when 'Last: not struct and 'Last :> Microsoft.ML.ITransformer and
                 'Last: not null
        val evaluate:
          data: Microsoft.ML.IDataView ->
            chain: Microsoft.ML.Data.TransformerChain<'Last> ->
            Pipelines.Pretraining.LanguageModelMetrics
            when 'Last: not struct and 'Last :> Microsoft.ML.ITransformer and
                 'Last: not null
        val format:
          metrics: Pipelines.Pretraining.LanguageModelMetrics -> string
        val unigramBitsPerByte: text: string -> float
namespace Pipelines.Scripts
    type Trainer<'Model> =
        {
          Name: string
          Progress: ProgressReport
          Train:
            (Microsoft.ML.IDataView ->
               Microsoft.ML.IDataView option ->
               System.IProgress<Pipelines.Components.Training.TrainingProgress> ->
               'Model)
          History: ('Model -> Pipelines.Components.Training.StepMetrics list)
        }
    type Fitted<'Model> =
        {
          Name: string
          Model: 'Model
          History: Pipelines.Components.Training.StepMetrics list
          Elapsed: System.TimeSpan
        }
    [<RequireQualifiedAccess>]
    module Pipeline =
        val ofEstimator:
          name: string ->
            estimator: Microsoft.ML.IEstimator<'Model> -> Trainer<'Model>
            when 'Model :> Microsoft.ML.ITransformer
        val mapValueToKey:
          context: Microsoft.ML.MLContext ->
            column: string ->
            Trainer<Microsoft.ML.Transforms.ValueToKeyMappingTransformer>
        val trainTokenizerWith:
          context: Microsoft.ML.MLContext ->
            options: Pipelines.Text.BytePairEncodingOptions ->
            Trainer<Pipelines.Text.BytePairEncodingTransformer>
        val trainTokenizer:
          context: Microsoft.ML.MLContext ->
            vocabularySize: int ->
            Trainer<Pipelines.Text.BytePairEncodingTransformer>
        val pretrainLanguageModel:
          context: Microsoft.ML.MLContext ->
            options: LanguageModelOptions ->
            Trainer<Pipelines.Pretraining.CausalLanguageModelTransformer>
        val fineTuneClassifier:
          context: Microsoft.ML.MLContext ->
            options: ClassifierOptions ->
            Trainer<Pipelines.FineTuning.TextClassificationTransformer>
        val named: name: string -> trainer: Trainer<'Model> -> Trainer<'Model>
        val withProgress:
          report: ProgressReport -> trainer: Trainer<'Model> -> Trainer<'Model>
        val andThen:
          second: Trainer<'Second> ->
            first: Trainer<#Microsoft.ML.ITransformer> ->
            Trainer<Microsoft.ML.Data.TransformerChain<'Second>>
            when 'Second: not struct and 'Second :> Microsoft.ML.ITransformer
        val fit:
          train: Microsoft.ML.IDataView ->
            validation: Microsoft.ML.IDataView ->
            trainer: Trainer<'Model> -> Fitted<'Model>
        val fitWithoutValidation:
          train: Microsoft.ML.IDataView ->
            trainer: Trainer<'Model> -> Fitted<'Model>
        val transform:
          data: Microsoft.ML.IDataView ->
            model: #Microsoft.ML.ITransformer -> Microsoft.ML.IDataView
        val evaluateClassifier:
          context: Microsoft.ML.MLContext ->
            data: Microsoft.ML.IDataView ->
            model: #Microsoft.ML.ITransformer ->
            Microsoft.ML.Data.MulticlassClassificationMetrics
namespace Pipelines.Scripts
    [<RequireQualifiedAccess>]
    module Csv =
        val write: path: string -> records: 'Record seq -> unit
        val append: path: string -> records: 'Record seq -> unit
        val read: path: string -> 'Record list
    [<RequireQualifiedAccess>]
    module Table =
        val formatValue: value: (obj | null) -> string
        val ofRecords: records: 'Record seq -> string
        val print: records: 'Record seq -> unit
    [<RequireQualifiedAccess>]
    module Frames =
        val ofRecords: records: 'Record seq -> Deedle.Frame<int,string>
        val saveCsv:
          path: string -> frame: Deedle.Frame<'Row,string> -> unit
            when 'Row: equality
        val saveCsvWithKeys:
          keyName: string ->
            path: string -> frame: Deedle.Frame<'Row,string> -> unit
            when 'Row: equality
        val format:
          frame: Deedle.Frame<'Row,'Column> -> string
            when 'Row: equality and 'Column: equality
        val print:
          frame: Deedle.Frame<'Row,'Column> -> unit
            when 'Row: equality and 'Column: equality
namespace Pipelines.Scripts
    type SweepSettings =
        {
          Parallel: bool
          MaximumParallelism: int
          ContinueOnError: bool
        }
    type Trial<'Variant,'Result> =
        {
          Index: int
          Variant: 'Variant
          Outcome: Result<'Result,exn>
          Elapsed: System.TimeSpan
        }
    [<RequireQualifiedAccess>]
    module Sweep =
        val defaults: SweepSettings
        val grid2: first: 'A list -> second: 'B list -> ('A * 'B) list
        val grid3:
          first: 'A list ->
            second: 'B list -> third: 'C list -> ('A * 'B * 'C) list
        val runWith:
          settings: SweepSettings ->
            experiment: ('Variant -> 'Result) ->
            grid: 'Variant seq -> Trial<'Variant,'Result> list
        val run:
          experiment: ('Variant -> 'Result) ->
            grid: 'Variant seq -> Trial<'Variant,'Result> list
        val results: trials: Trial<'Variant,'Result> list -> 'Result list
        val failures:
          trials: Trial<'Variant,'Result> list -> ('Variant * exn) list
        val best:
          score: ('Result -> float) ->
            trials: Trial<'Variant,'Result> list -> 'Result option
        val writeCsv:
          path: string -> trials: Trial<'Variant,'Result> list -> unit
        val summary: trials: Trial<'Variant,'Result> list -> string
namespace Pipelines.Scripts
    [<RequireQualifiedAccess>]
    module Charts =
        val smooth: window: int -> values: float list -> float list
        val create:
          title: string -> xLabel: string -> yLabel: string -> ScottPlot.Plot
        val line:
          title: string ->
            xLabel: string ->
            yLabel: string ->
            series: (string * (float * float) list) list -> ScottPlot.Plot
        val lossWindow: steps: int -> int
        val lossCurves:
          title: string ->
            runs: (string * Pipelines.Components.Training.StepMetrics list) list ->
            ScottPlot.Plot
        val heatMapWith:
          title: string ->
            rowLabels: string list ->
            columnLabels: string list ->
            valueLabel: string ->
            range: (float * float) option ->
            cellTexts: string array2d option ->
            values: float array2d -> ScottPlot.Plot
        val grid:
          title: string ->
            valueLabel: string ->
            rowLabel: ('Row -> string) ->
            columnLabel: ('Column -> string) ->
            rows: 'Row list ->
            columns: 'Column list ->
            value: ('Row -> 'Column -> float) -> ScottPlot.Plot
        val confusionMatrix:
          title: string ->
            classNames: string list ->
            metrics: Microsoft.ML.Data.MulticlassClassificationMetrics ->
            ScottPlot.Plot
        val saveWith:
          width: int ->
            height: int -> path: string -> plot: ScottPlot.Plot -> unit
        val save: path: string -> plot: ScottPlot.Plot -> unit
namespace Pipelines.Scripts
    type SparsityTarget =
        | FinalSparsity of sparsity: float
        | AverageParameterCount of count: float
    type PruningPlan =
        {
          Target: SparsityTarget
          StartFraction: float
          EndFraction: float
          Interval: int64 option
          Schedule: Pipelines.Components.Sparsity.SparsityScheduleKind
          Criterion: Pipelines.Components.Sparsity.PruningCriterionKind
        }
    [<RequireQualifiedAccess>]
    module PruningPlan =
        val defaults: PruningPlan
        val between:
          start: float -> finish: float -> target: SparsityTarget -> PruningPlan
        val toEstimatorOptionsWith:
          validation: Microsoft.ML.IDataView option ->
            progress: System.IProgress<Pipelines.Components.Training.TrainingProgress> option ->
            pretraining: LanguageModelOptions ->
            plan: PruningPlan -> Pipelines.Sparsity.SparsePretrainingOptions
        val toEstimatorOptions:
          pretraining: LanguageModelOptions ->
            plan: PruningPlan -> Pipelines.Sparsity.SparsePretrainingOptions
    type SparseRunSummary =
        {
          Run: string
          Schedule: string
          Layers: int
          Channels: int
          ParameterCount: int64
          FinalSparsity: float
          FinalNonZeroCount: int64
          AverageParameterCount: float
          Steps: int64
          Tokens: int64
          FinalValidationLoss: float
          Seconds: float
        }
    [<RequireQualifiedAccess>]
    module Sparse =
        val parameterCounts:
          vocabularySize: int ->
            options: LanguageModelOptions ->
            Pipelines.Experiments.ModelParameterCounts
        val standardPlans: target: SparsityTarget -> (string * PruningPlan) list
        val pretrain:
          context: Microsoft.ML.MLContext ->
            options: LanguageModelOptions ->
            plan: PruningPlan ->
            Trainer<Pipelines.Sparsity.SparsePretrainingTransformer>
        val summarizeDense:
          fitted: Fitted<Pipelines.Pretraining.CausalLanguageModelTransformer> ->
            SparseRunSummary
        val summarizeSparse:
          fitted: Fitted<Pipelines.Sparsity.SparsePretrainingTransformer> ->
            SparseRunSummary
        val nonZeroCurve:
          model: Pipelines.Sparsity.SparsePretrainingTransformer ->
            (int64 * int64) list
namespace Pipelines.Scripts
    [<RequireQualifiedAccess>]
    module Valley =
        val run:
          label: string ->
            threads: int ->
            seed: int ->
            options: Pipelines.Experiments.NarrowingValleyOptions ->
            Pipelines.Experiments.NarrowingValleyCell list
        val axes:
          cells: Pipelines.Experiments.NarrowingValleyCell list ->
            float list * float list
        val cellAt:
          cells: Pipelines.Experiments.NarrowingValleyCell list ->
            sharpness: float ->
            noise: float -> Pipelines.Experiments.NarrowingValleyCell
        val hasWinner: cell: Pipelines.Experiments.NarrowingValleyCell -> bool
        val wins:
          cells: Pipelines.Experiments.NarrowingValleyCell list ->
            (Pipelines.Experiments.ValleyOptimizer * int) list
        val winnerTable:
          cells: Pipelines.Experiments.NarrowingValleyCell list -> string
namespace Pipelines.Scripts
    type TokenCorpus =
        {
          Training: int array
          Validation: int array
          VocabularySize: int
          ValidationBytesPerToken: float
        }
    [<RequireQualifiedAccess>]
    module Corpus =
        val stream:
          endOfText: int ->
            encode: (string -> int array) -> documents: string list -> int array
        val brown:
          context: Microsoft.ML.MLContext ->
            vocabularySize: int ->
            trainingDocuments: int -> validationDocuments: int -> TokenCorpus
    [<RequireQualifiedAccess>]
    module Runs =
        val format: run: Pipelines.Experiments.PretrainingRunResult -> string
        val progress:
          unit -> System.IProgress<Pipelines.Experiments.PretrainingRunResult>
        val writeText: directory: string -> name: string -> text: string -> unit
