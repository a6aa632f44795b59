// Checks of the Pipelines.Scripts helpers (sweeps, tables, CSV, Deedle frames, ScottPlot charts, progress, data slicing,
// options, a tiny ML.NET classifier chain), run by FsxScriptTests with `dotnet fsi`. Prints one line per check and
// exits with 1 if any failed.

#load "../../../src/Scripts/experiments/prelude.fsx"

open Deedle
open Microsoft.ML
open Pipelines
open Pipelines.Experiments
open Pipelines.Components.Training
open Pipelines.Scripts
open System
open System.IO
open System.Threading

let mutable failed = 0

let check (name: string) (condition: bool) =
    printfn "%s %s" (if condition then "OK    " else "FAILED") name
    if not condition then failed <- failed + 1

let throws<'Exception when 'Exception :> exn> (name: string) (action: unit -> unit) =
    let outcome =
        try
            action ()
            "nothing was thrown"
        with
        | :? 'Exception -> ""
        | other -> $"threw {other.GetType().Name}: {other.Message}"
    if outcome <> "" then printfn "       %s" outcome
    check name (outcome = "")

type Row = { Rate: float; Loss: float; Note: string }

// Sweep: order, results, failures, best.
let squares = [ 1 .. 5 ] |> Sweep.run (fun n -> n * n)
check "sequential sweep keeps the grid order" (Sweep.results squares = [ 1; 4; 9; 16; 25 ])
check "trials carry their index and variant" (squares |> List.forall (fun trial -> trial.Variant = trial.Index + 1))

let parallelSettings = { Sweep.defaults with Parallel = true; MaximumParallelism = 4 }
let slowFirst =
    [ 0 .. 7 ]
    |> Sweep.runWith parallelSettings (fun n ->
        Thread.Sleep((8 - n) * 15) // the first variants finish last
        n * 10)
check "parallel sweep returns results in grid order" (Sweep.results slowFirst = [ 0 .. 10 .. 70 ])

let failing n = if n = 2 then invalidOp "two is not allowed" else float n
let tolerant = [ 1; 2; 3 ] |> Sweep.runWith { Sweep.defaults with ContinueOnError = true } failing
check "a failed trial is recorded and the others still run" (Sweep.results tolerant = [ 1.0; 3.0 ])
check "failures name the variant" (Sweep.failures tolerant |> List.map fst = [ 2 ])
check "the summary lists the failure" ((Sweep.summary tolerant).Contains "two is not allowed")
throws<InvalidOperationException> "a sequential sweep stops at the first failure" (fun () -> [ 1; 2; 3 ] |> Sweep.run failing |> ignore)
throws<InvalidOperationException> "a parallel sweep rethrows the trial's exception" (fun () ->
    [ 1; 2; 3 ] |> Sweep.runWith parallelSettings failing |> ignore)
throws<ArgumentOutOfRangeException> "a parallelism of 0 is rejected" (fun () ->
    [ 1 ] |> Sweep.runWith { parallelSettings with MaximumParallelism = 0 } id |> ignore)

let rows =
    [ { Rate = 1e-3; Loss = 0.5; Note = "a" }
      { Rate = 3e-3; Loss = nan; Note = "diverged" }
      { Rate = 1e-2; Loss = 0.25; Note = "b, with a comma" } ]
let rowTrials = rows |> Sweep.run id
check "best ignores NaN scores" ((Sweep.best _.Loss rowTrials |> Option.map _.Rate) = Some 1e-2)
check "grid2 varies the first list slowest" (Sweep.grid2 [ 1; 2 ] [ "a"; "b" ] = [ 1, "a"; 1, "b"; 2, "a"; 2, "b" ])
check "grid3 has every triple" ((Sweep.grid3 [ 1; 2 ] [ 3; 4; 5 ] [ 6; 7 ]).Length = 12)

// CSV round trip through MetricsCsv (NaN and text with commas included).
let directory = Directory.CreateTempSubdirectory("pipelines-scripts-checks-").FullName
let csvPath = Path.Combine(directory, "nested", "sweep.csv")
Sweep.writeCsv csvPath rowTrials
let readBack = Csv.read<Row> csvPath
check "CSV round trip keeps every row" (readBack.Length = 3)
check "CSV round trip keeps floats bit for bit and NaN" (List.forall2 (fun (a: Row) (b: Row) -> a.Rate = b.Rate && a.Note = b.Note && (a.Loss = b.Loss || Double.IsNaN a.Loss && Double.IsNaN b.Loss)) rows readBack)
check "CSV header names the fields" (File.ReadLines(csvPath) |> Seq.head = "Rate,Loss,Note")

// Tables: header, alignment, formatting of options and nulls.
type Optional = { Name: string; Value: int option; Text: string | null }
let table = Table.ofRecords [ { Name = "x"; Value = Some 12345; Text = null }; { Name = "longer"; Value = None; Text = "t" } ]
let lines = table.TrimEnd().Split('\n') |> Array.map _.TrimEnd('\r')
check "table has a header, a rule and one line per record" (lines.Length = 4 && lines[0].StartsWith "Name")
check "table prints Some x as x and None as empty" (lines[2].Contains "12345" && not (table.Contains "Some"))
check "table right-aligns numbers" (lines[2].IndexOf "12345" + 5 = lines[0].IndexOf "Value" + 5)
check "table formats floats to 4 significant digits" ((Table.ofRecords [ { Rate = 1.0 / 3.0; Loss = 2.0; Note = "" } ]).Contains "0.3333 ")

// Deedle frames: records in, NaN as a missing value written empty, grouping, keys as a first column.
type Measurement = { Run: string; Step: int; Loss: float }
let measurements =
    Frames.ofRecords
        [ { Run = "a"; Step = 1; Loss = 4.0 }; { Run = "a"; Step = 2; Loss = 2.0 }
          { Run = "b"; Step = 1; Loss = 3.0 }; { Run = "b"; Step = 2; Loss = nan } ]
check "a frame of records has one column per field and one row per record" (
    List.ofSeq measurements.ColumnKeys = [ "Run"; "Step"; "Loss" ] && measurements.RowCount = 4)
let framePath = Path.Combine(directory, "frames", "measurements.csv")
Frames.saveCsv framePath measurements
check "a frame is saved as CSV with a header, invariant numbers and NaN empty" (
    File.ReadAllLines framePath = [| "Run,Step,Loss"; "a,1,4"; "a,2,2"; "b,1,3"; "b,2," |])
let meanLoss =
    measurements
    |> Frame.aggregateRowsBy [ "Run" ] [ "Loss" ] Stats.mean
    |> Frame.indexRows "Run"
    : Frame<string, string>
check "grouping skips missing values" (meanLoss.GetColumn<float>("Loss") |> Series.observations |> List.ofSeq = [ "a", 3.0; "b", 3.0 ])
let keyedPath = Path.Combine(directory, "frames", "keyed.csv")
Frames.saveCsvWithKeys "Run" keyedPath meanLoss
check "a keyed frame is saved with its keys as the first column" (File.ReadAllLines keyedPath = [| "Run,Loss"; "a,3"; "b,3" |])
check "a frame formats for the console with its columns" ((Frames.format meanLoss).Contains "Loss")

// Charts (ScottPlot), saved as SVG and PNG.
let smoothed = Charts.smooth 2 [ 1.0; 2.0; 3.0; nan; 5.0 ]
check "smooth is a trailing mean that skips NaN" (smoothed = [ 1.0; 1.5; 2.5; 3.0; 5.0 ])
throws<ArgumentOutOfRangeException> "smooth rejects a window of 0" (fun () -> Charts.smooth 0 [ 1.0 ] |> ignore)
let isPng (path: string) =
    File.Exists path && (File.ReadAllBytes path)[..7] = [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy; 0x0Duy; 0x0Auy; 0x1Auy; 0x0Auy |]
let history = [ for step in 1L .. 10L -> StepMetrics(step, 1.0 / float step, 1e-3, (if step % 5L = 0L then Nullable 0.5 else Nullable())) ]
let lossChart = Charts.lossCurves "Loss" [ ("run A", history) ]
check "loss curves draw the training and the validation series" (
    [ for plottable in lossChart.GetPlottables() do
          match plottable with
          | :? ScottPlot.Plottables.Scatter as scatter -> yield scatter.LegendText, scatter.Data.GetScatterPoints().Count
          | _ -> () ] = [ "run A", 10; "run A (validation)", 2 ])
let curvesPath = Path.Combine(directory, "charts", "curves.svg")
Charts.save curvesPath lossChart
check "a chart is saved as an SVG document and a PNG image beside it" (
    (File.ReadAllText curvesPath).Contains "<svg" && (File.ReadAllText curvesPath).Contains "run A (validation)"
    && isPng (Path.ChangeExtension(curvesPath, ".png")))
let gridPath = Path.Combine(directory, "grid.svg")
let gridChart = Charts.grid "grid" "product" string string [ 1; 2 ] [ 10; 20; 30 ] (fun row column -> float (row * column))
Charts.save gridPath gridChart
check "a grid heat map is written as SVG and PNG" ((File.ReadAllText gridPath).Contains "<svg" && isPng (Path.ChangeExtension(gridPath, ".png")))
throws<ArgumentException> "a heat map refuses labels that do not fit its values" (fun () ->
    Charts.heatMapWith "x" [ "one" ] [ "a"; "b" ] "v" None None (Array2D.zeroCreate 2 2) |> ignore)

// Progress lines.
check "about ten lines over 40 steps: every 4" (ConsoleProgress.interval (Lines 10) 40L = 4L)
check "first, every interval and the last step print" (
    [ 1L .. 10L ] |> List.filter (fun step -> ConsoleProgress.shouldPrint (EverySteps 4) step 10L) = [ 1L; 4L; 8L; 10L ])
check "quiet prints nothing" (not (ConsoleProgress.shouldPrint Quiet 1L 10L))
let writer = new StringWriter()
let sink = ConsoleProgress.toWriter writer "run" (EverySteps 5)
for step in 1L .. 10L do
    sink.Report(TrainingProgress(step, 10L, float step / 10.0, 0.5, 1e-3, 1000.0, TimeSpan.FromSeconds 3.0, Nullable()))
check "a sink writes only the chosen steps" (writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length = 3)
check "a line names the run, the step and the loss" (writer.ToString().StartsWith "run | step  1 /10 | epoch 0.10 | loss 0.5000")
throws<ArgumentOutOfRangeException> "EverySteps 0 is rejected" (fun () -> ConsoleProgress.toWriter writer "" (EverySteps 0) |> ignore)

// Data and budget.
let labelled = [ for index in 0..9 -> { Label = (if index % 3 = 0 then "a" else "b"); Text = string index } ]
check "takePerLabel keeps the first n of each label in order" (Data.takePerLabel 2 labelled |> List.map _.Text = [ "0"; "1"; "2"; "3" ])
check "budget names are read ignoring case" (Experiment.parseBudget " TINY " = Tiny && Experiment.parseBudget "full" = Full)
throws<ArgumentException> "an unknown budget is rejected" (fun () -> Experiment.parseBudget "huge" |> ignore)
check "the repository root holds the solution" (File.Exists(Path.Combine(Experiment.repositoryRoot (), "Pipelines.sln")))

// Options mapping.
let mapped = ClassifierOptions.toEstimatorOptions { ClassifierOptions.defaults with Layers = 3; Channels = 48; Heads = 3; VocabularySize = Some 700; Steps = Some 9L }
check "classifier options map onto the estimator's record" (
    mapped.Model.LayerCount = 3 && mapped.Model.Channels = 48 && mapped.VocabularySize = Nullable 700 && mapped.Steps = Nullable 9L
    && isNull mapped.ValidationSet && isNull mapped.Progress)
check "the classifier's vocabulary defaults to the token column's" (not (ClassifierOptions.toEstimatorOptions ClassifierOptions.defaults).VocabularySize.HasValue)
check "the mapped schedule peaks at the learning rate after the warm-up" (
    abs ((mapped.LearningRateSchedule.Invoke 100L).ValueAt 9L - ClassifierOptions.defaults.LearningRate) < 1e-12)
throws<ArgumentOutOfRangeException> "a warm-up fraction of 1 is rejected" (fun () ->
    ClassifierOptions.toEstimatorOptions { ClassifierOptions.defaults with WarmupFraction = 1.0 } |> ignore)
throws<ArgumentOutOfRangeException> "a batch size of 0 is rejected by the estimator's record" (fun () ->
    ClassifierOptions.toEstimatorOptions { ClassifierOptions.defaults with BatchSize = 0 } |> ignore)

let pretraining = LanguageModelOptions.toEstimatorOptions { LanguageModelOptions.defaults with Layers = 1; Channels = 32; Heads = 2; ContextLength = 48; Epochs = Some 0.5 }
check "language-model options map onto the estimator's record" (
    pretraining.Model.LayerCount = 1 && pretraining.Model.ContextLength = 48 && pretraining.Epochs = Nullable 0.5
    && pretraining.ThreadCount = Environment.ProcessorCount && pretraining.GradientClipNorm = Nullable 1.0)
let context = MLContext(seed = 5)
let someView = Data.documents [ "x" ] |> Data.load context
let silent = { new IProgress<TrainingProgress> with member _.Report _ = () }
let withRun = LanguageModelOptions.toEstimatorOptionsWith (Some someView) (Some silent) LanguageModelOptions.defaults
check "the validation set and the progress sink go into the estimator's options" (
    obj.ReferenceEquals(withRun.ValidationSet, someView) && obj.ReferenceEquals(withRun.Progress, silent))
let onBackend = Pipelines.Components.Backends.ManagedBackend(2) :> Pipelines.Components.Backends.ITrainingBackend
check "a backend goes into the estimators' options; None leaves the managed default" (
    obj.ReferenceEquals((LanguageModelOptions.toEstimatorOptions { LanguageModelOptions.defaults with Backend = Some onBackend }).Backend, onBackend)
    && obj.ReferenceEquals((ClassifierOptions.toEstimatorOptions { ClassifierOptions.defaults with Backend = Some onBackend }).Backend, onBackend)
    && obj.ReferenceEquals((PruningPlan.toEstimatorOptions { LanguageModelOptions.defaults with Backend = Some onBackend } PruningPlan.defaults).Pretraining.Backend, onBackend)
    && isNull withRun.Backend && isNull mapped.Backend)
throws<ArgumentOutOfRangeException> "a learning rate of 0 is rejected by the estimator's record" (fun () ->
    LanguageModelOptions.toEstimatorOptions { LanguageModelOptions.defaults with LearningRate = 0.0 } |> ignore)
check "the unigram entropy of two equally frequent bytes is one bit" (abs (LanguageModel.unigramBitsPerByte "abba" - 1.0) < 1e-12)
check "the unigram entropy of one repeated byte is zero" (LanguageModel.unigramBitsPerByte "aaaa" = 0.0)
check "documents become rows of one Text column" (Data.documents [ "x"; "y" ] = [ { Text = "x" }; { Text = "y" } ])

// Thread counts.
Environment.SetEnvironmentVariable(Experiment.ThreadsVariable, null)
check "without PIPELINES_THREADS the fallback is used" (Experiment.threadCountOr 1 = 1 && Experiment.threadCount () = Environment.ProcessorCount)
Environment.SetEnvironmentVariable(Experiment.ThreadsVariable, "3")
check "PIPELINES_THREADS overrides the fallback" (Experiment.threadCountOr 1 = 3)
Environment.SetEnvironmentVariable(Experiment.ThreadsVariable, "0")
throws<ArgumentOutOfRangeException> "PIPELINES_THREADS=0 is rejected" (fun () -> Experiment.threadCountOr 1 |> ignore)
Environment.SetEnvironmentVariable(Experiment.ThreadsVariable, null)
check "tables print whole large floats in full" ((Table.ofRecords [ { Rate = 269696.4; Loss = 2.0; Note = "" } ]).Contains "269696 ")

// Sparse pre-training helpers.
let small = { LanguageModelOptions.defaults with Layers = 2; Heads = 2; Channels = 32; ContextLength = 32 }
let counts = Sparse.parameterCounts 320 small
// Per block: 4 x 32 x 32 attention + 2 x 4 x 32 x 32 MLP weights (prunable), their biases and two layer norms.
check "parameter counts: the prunable part is the blocks' linear weights" (counts.Prunable = 2L * 12L * 32L * 32L)
check "parameter counts: the embeddings are the token and position tables" (counts.Embedding = 320L * 32L + 32L * 32L)
check "parameter counts: the total is that of the dense tiny model" (counts.Total = 36736L)
let plans = Sparse.standardPlans (AverageParameterCount 1000.0)
check "the standard plans are 25-75, 0-50 and 50-100" (
    plans |> List.map (fun (run, plan) -> run, plan.StartFraction, plan.EndFraction) = [ "sparse-25-75", 0.25, 0.75; "early-0-50", 0.0, 0.5; "late-50-100", 0.5, 1.0 ])
let targeted = PruningPlan.toEstimatorOptions small (snd plans.Head)
check "an Nbar target maps onto TargetAverageParameterCount" (targeted.TargetAverageParameterCount = Nullable 1000.0 && targeted.StartFraction = 0.25)
let fixedSparsity = PruningPlan.toEstimatorOptions small { PruningPlan.defaults with Target = FinalSparsity 0.7; Interval = Some 5L }
check "a final sparsity maps onto FinalSparsity" (
    fixedSparsity.FinalSparsity = 0.7 && not fixedSparsity.TargetAverageParameterCount.HasValue && fixedSparsity.PruningInterval = Nullable 5L
    && fixedSparsity.Pretraining.Model.LayerCount = 2)
throws<ArgumentOutOfRangeException> "a final sparsity of 1 is rejected by the estimator's record" (fun () ->
    PruningPlan.toEstimatorOptions small { PruningPlan.defaults with Target = FinalSparsity 1.0 } |> ignore)

// Narrowing-valley helpers, on hand-made cells (losses 1, 2, 3 with Adam, Signum, Focus in turn the winner).
let score optimizer loss = ValleyScore(optimizer, loss, 0.1, [| loss |])
let cell noise sharpness (adam, signum, focus) =
    NarrowingValleyCell(noise, sharpness, [| score ValleyOptimizer.Adam adam; score ValleyOptimizer.Signum signum; score ValleyOptimizer.Focus focus |])
let cells =
    [ cell 0.0 1.0 (1.0, 2.0, 3.0); cell 1.0 1.0 (2.0, 1.0, 3.0)
      cell 0.0 10.0 (3.0, 2.0, 1.0); cell 1.0 10.0 (infinity, infinity, infinity) ]
check "wins count each optimizer's cells, not those where all diverged" (
    Valley.wins cells = [ ValleyOptimizer.Adam, 1; ValleyOptimizer.Signum, 1; ValleyOptimizer.Focus, 1 ])
check "axes: sharpness largest first, noise increasing" (Valley.axes cells = ([ 10.0; 1.0 ], [ 0.0; 1.0 ]))
let winners = (Valley.winnerTable cells).Split('\n', StringSplitOptions.RemoveEmptyEntries)
check "the winner table has a header and a row per sharpness, largest first" (
    winners.Length = 3 && winners[1].StartsWith "10 " && winners[1].Contains "Focus" && winners[1].TrimEnd().EndsWith "-" && winners[2].Contains "Adam")

// Token streams and run lines for the Components-level experiments.
check "a stream puts the end-of-text id before every document" (Corpus.stream 9 (fun text -> [| text.Length |]) [ "ab"; "c" ] = [| 9; 2; 9; 1 |])
let finished = PretrainingRunResult("AdamW", 3e-3, [||], 4.25, Nullable(), TimeSpan.FromSeconds 12.0)
let diverged = PretrainingRunResult("FOCUS", 1e-2, [||], infinity, Nullable 17L, TimeSpan.FromSeconds 2.0)
check "a run line names the optimizer, the rate and the loss" (Runs.format finished = "AdamW | peak lr 0.003 | final validation loss 4.2500 | 12 s")
check "a diverged run's line names the step" ((Runs.format diverged).Contains "diverged at step 17")

// A tiny ML.NET chain through the helpers: label to key, BPE, a classifier of two steps, ML.NET's evaluator.
let messages =
    [ for index in 0..11 ->
          if index % 2 = 0 then { Label = "spam"; Text = $"win a free prize now {index}" }
          else { Label = "ham"; Text = $"the meeting moved to monday {index}" } ]
let labelledView = Data.load context messages
check "records load into an ML.NET view with one column per field" (
    [ for column in labelledView.Schema -> column.Name ] = [ "Label"; "Text" ])
let prepared =
    Pipeline.mapValueToKey context "Label"
    |> Pipeline.andThen (Pipeline.trainTokenizer context 280)
    |> Pipeline.fitWithoutValidation labelledView
let tokens = prepared.Model.Transform labelledView
check "label to key and the tokenizer make one flat chain" (Seq.length prepared.Model = 2)
let tinyClassifier =
    { ClassifierOptions.defaults with Layers = 1; Heads = 1; Channels = 8; MaximumSequenceLength = 16; BatchSize = 4; Steps = Some 2L; Seed = Some 1; ThreadCount = Some 1 }
let classifier =
    Pipeline.fineTuneClassifier context tinyClassifier
    |> Pipeline.withProgress Quiet
    |> Pipeline.fit tokens tokens
check "the classifier's history has one entry per step" (classifier.History.Length = 2)
check "the classifier knows the label's values" (List.ofSeq classifier.Model.ClassNames = [ "spam"; "ham" ])
let metrics = Pipeline.evaluateClassifier context tokens classifier.Model
let confusionCounts = metrics.ConfusionMatrix.Counts
check "ML.NET's confusion matrix counts every row" (confusionCounts |> Seq.sumBy Seq.sum = 12.0)
let f1 classIndex =
    let truePositives = confusionCounts[classIndex][classIndex]
    let precision = truePositives / (confusionCounts |> Seq.sumBy (fun row -> row[classIndex]))
    let recall = truePositives / Seq.sum confusionCounts[classIndex]
    if Double.IsFinite precision && Double.IsFinite recall && precision + recall > 0.0 then 2.0 * precision * recall / (precision + recall) else 0.0
let present = [ 0; 1 ] |> List.filter (fun index -> Seq.sum confusionCounts[index] + (confusionCounts |> Seq.sumBy (fun row -> row[index])) > 0.0)
check "macro-F1 is the mean F1 of the classes present" (abs (ClassifierMetrics.macroF1 metrics - (present |> List.averageBy f1)) < 1e-12)
check "the metrics line names accuracy, macro-F1 and log-loss" (
    Text.RegularExpressions.Regex.IsMatch(ClassifierMetrics.format metrics, @"^accuracy \d+(\.\d+)? % \| macro-F1 \d\.\d{4} \| log-loss \d+\.\d{4}$"))
let confusionPath = Path.Combine(directory, "confusion.svg")
Charts.confusionMatrix "confusion" (List.ofSeq classifier.Model.ClassNames) metrics |> Charts.save confusionPath
check "the confusion matrix is drawn with each count, as SVG and PNG" (
    let svg = File.ReadAllText confusionPath
    let texts = [ for text in Text.RegularExpressions.Regex.Matches(svg, @"<text[^>]*>\s*([^<]*?)\s*</text>") -> text.Groups[1].Value ]
    confusionCounts |> Seq.concat |> Seq.forall (fun count -> List.contains (string (int64 count)) texts)
    && isPng (Path.ChangeExtension(confusionPath, ".png")))

Directory.Delete(directory, true)
printfn "%d check(s) failed" failed
exit (if failed = 0 then 0 else 1)
