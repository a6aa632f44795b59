using Pipelines.Components.Sparsity;

namespace Pipelines.Experiments;

/// <summary>One step of a run's curve (a CSV row).</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Step">Updates completed (1 = after the first).</param>
/// <param name="Tokens">Training tokens seen so far.</param>
/// <param name="TrainingLoss">Loss of the step's batch.</param>
/// <param name="ValidationLoss">Validation loss measured after this step, if an evaluation ran.</param>
/// <param name="LearningRate">The step's learning rate.</param>
/// <param name="NonZeroCount">N(t): unpruned parameters in force during this update.</param>
/// <param name="OverallSparsity">Pruned fraction of all parameters during this update.</param>
/// <param name="PrunableSparsity">Pruned fraction of the prunable parameters during this update.</param>
/// <param name="AverageParameterCount">Nbar so far: the mean of N over updates 1..Step.</param>
public sealed record SparsePretrainingStep(string Run, long Step, long Tokens, double TrainingLoss, double? ValidationLoss, double LearningRate,
    long NonZeroCount, double OverallSparsity, double PrunableSparsity, double AverageParameterCount);

/// <summary>What one run ended with (a CSV row of the comparison table).</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Schedule">"dense", or the schedule's kind and span, e.g. "Cubic 25%-75%".</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Channels">Model width.</param>
/// <param name="ParameterCount">N: all parameters of the model.</param>
/// <param name="PrunableCount">P: the linear layers' weights.</param>
/// <param name="TargetFinalSparsity">s_f of the prunable part (0 for a dense run).</param>
/// <param name="FinalPrunableSparsity">The mask's pruned fraction of the prunable part at the end.</param>
/// <param name="FinalNonZeroCount">Unpruned parameters at the end (the size of the trained model).</param>
/// <param name="AverageParameterCount">Nbar = (1/T) sum_t N(t).</param>
/// <param name="AverageParameterCountOverTokens">sum_t N(t) D_t / sum_t D_t (equal to Nbar here: every step has the same tokens).</param>
/// <param name="Steps">Updates.</param>
/// <param name="Tokens">D: training tokens.</param>
/// <param name="FinalValidationLoss">Mean validation loss over the final evaluation's windows (nats per token).</param>
/// <param name="FinalTrainingLoss">Mean training loss of the last 5% of steps.</param>
/// <param name="Seconds">Wall time of the run.</param>
public sealed record SparsePretrainingSummary(string Run, string Schedule, int Layers, int Channels, long ParameterCount, long PrunableCount,
    double TargetFinalSparsity, double FinalPrunableSparsity, long FinalNonZeroCount, double AverageParameterCount, double AverageParameterCountOverTokens,
    long Steps, long Tokens, double FinalValidationLoss, double FinalTrainingLoss, double Seconds);

/// <summary>The final sparsity of one parameter of one run (a CSV row of the per-layer report).</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Parameter">The parameter's name.</param>
/// <param name="IsPrunable">Whether pruning may remove its entries.</param>
/// <param name="ParameterCount">Its scalars.</param>
/// <param name="NonZeroCount">Its unpruned scalars.</param>
/// <param name="Sparsity">Its pruned fraction.</param>
public sealed record SparsePretrainingLayer(string Run, string Parameter, bool IsPrunable, long ParameterCount, long NonZeroCount, double Sparsity);

/// <summary>Everything one run of <see cref="SparsePretrainingExperiment"/> produced.</summary>
/// <param name="Summary">The final figures.</param>
/// <param name="Curve">One row per step.</param>
/// <param name="Layers">Final per-parameter sparsity, in arena order.</param>
/// <param name="Events">The pruning steps (empty for a dense run).</param>
/// <param name="Snapshots">Per-parameter sparsity after each pruning step that pruned.</param>
/// <param name="Mask">The final mask (null for a dense run).</param>
public sealed record SparsePretrainingResult(SparsePretrainingSummary Summary, IReadOnlyList<SparsePretrainingStep> Curve,
    IReadOnlyList<SparsePretrainingLayer> Layers, IReadOnlyList<PruningEvent> Events, IReadOnlyList<LayerSparsitySnapshot> Snapshots, PruningMask? Mask);

/// <summary>A report from a running experiment, after each step of each run.</summary>
/// <param name="Run">The run's name.</param>
/// <param name="RunIndex">Its position in the batch of runs (0-based).</param>
/// <param name="RunCount">Runs in the batch.</param>
/// <param name="Step">Updates completed.</param>
/// <param name="TotalSteps">Updates the run will make.</param>
/// <param name="TrainingLoss">Loss of the latest batch.</param>
/// <param name="ValidationLoss">Latest validation loss, if any evaluation ran.</param>
/// <param name="NonZeroCount">Unpruned parameters now.</param>
/// <param name="OverallSparsity">Pruned fraction of all parameters now.</param>
/// <param name="AverageParameterCount">Nbar so far.</param>
/// <param name="TokensPerSecond">Training throughput of the run.</param>
/// <param name="Elapsed">Wall time of the run so far.</param>
public sealed record SparsePretrainingProgress(string Run, int RunIndex, int RunCount, long Step, long TotalSteps, double TrainingLoss, double? ValidationLoss,
    long NonZeroCount, double OverallSparsity, double AverageParameterCount, double TokensPerSecond, TimeSpan Elapsed);
