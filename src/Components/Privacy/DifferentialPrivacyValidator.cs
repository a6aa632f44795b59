using Pipelines.Components.Models;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>How a training loop forms its batches.</summary>
public enum BatchSampling
{
    /// <summary>Each example joins each batch independently with probability q (<see cref="PoissonSampler"/>): what the accountant assumes.</summary>
    Poisson,

    /// <summary>Fixed-size batches from a shuffled epoch: the subsampled-Gaussian accounting does not hold.</summary>
    FixedSizeShuffled,
}

/// <summary>How a DP training run is set up, as far as the guarantee depends on it.</summary>
public sealed record DifferentialPrivacyPlan
{
    /// <summary>How batches are drawn (default Poisson).</summary>
    public BatchSampling Sampling { get; init; } = BatchSampling.Poisson;

    /// <summary>Poisson batches whose gradients are summed before one noisy update (default 1: none accumulated).</summary>
    public int AccumulatedBatches { get; init; } = 1;

    /// <summary>Layers whose output for one example depends on other examples of the batch (e.g. batch norm in training mode); none in this engine's models.</summary>
    public IReadOnlyList<string> BatchDependentLayers { get; init; } = [];
}

/// <summary>Refuses DP-SGD set-ups that would void the (epsilon, delta) guarantee, saying why.</summary>
/// <remarks>
/// The accountant (Abadi et al. 2016, arXiv 1607.00133; Mironov 2017, arXiv 1702.07476) assumes: Poisson-sampled
/// batches; one noisy update per batch, so sensitivity C; per-example gradients that depend on their own example
/// only (a batch-statistics layer mixes examples, so one example moves every other's clipped gradient); and a model
/// whose every trainable parameter has a per-example norm (otherwise part of the gradient is never clipped).
/// </remarks>
public static class DifferentialPrivacyValidator
{
    /// <summary>Every reason the plan and model would void the guarantee (empty when none).</summary>
    public static IReadOnlyList<string> Problems(ITransformerModel model, DifferentialPrivacyPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        var problems = new List<string>();
        if (plan.Sampling != BatchSampling.Poisson)
            problems.Add($"Sampling is {plan.Sampling}: the accountant assumes Poisson sampling (each example joins with probability q); fixed-size shuffled batches break the guarantee.");
        if (plan.AccumulatedBatches != 1)
            problems.Add($"AccumulatedBatches is {plan.AccumulatedBatches}: summing the gradients of several Poisson batches before one noisy update is not the accounted mechanism; use virtual batches within one Poisson batch instead.");
        foreach (var layer in plan.BatchDependentLayers)
            problems.Add($"Layer '{layer}' depends on the whole batch: an example's clipped gradient would depend on other examples, so its sensitivity is not C.");
        var covered = CoveredParameters(model);
        if (covered is null)
            problems.Add($"{model.GetType().Name} has no per-example gradient support: use GptModel or EncoderClassifier, or one pass per example.");
        else
            foreach (var parameter in model.Parameters.Parameters.Where(parameter => model.IsTrainable(parameter) && !covered.Contains(parameter)))
                problems.Add($"Trainable parameter '{parameter.Name}' ({parameter.Role}) has no per-example norm: its gradient would never be clipped; freeze it or add per-example support for its layer.");
        return problems;
    }

    /// <summary>Throws when <see cref="Problems"/> finds any, listing them all.</summary>
    /// <exception cref="InvalidOperationException">The set-up would void the guarantee; the message says why.</exception>
    public static void Validate(ITransformerModel model, DifferentialPrivacyPlan plan)
    {
        var problems = Problems(model, plan);
        if (problems.Count > 0)
            throw new InvalidOperationException("This DP-SGD set-up would void the privacy guarantee:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(problem => "- " + problem)));
    }

    /// <summary>The parameters the batched per-example route covers, or null for a model it does not know.</summary>
    private static HashSet<ParameterSlice>? CoveredParameters(ITransformerModel model)
    {
        var taps = model switch
        {
            GptModel gpt => gpt.PerExampleTaps(),
            EncoderClassifier encoder => encoder.PerExampleTaps(),
            _ => null,
        };
        return taps is null ? null : TransformerClipping.CoveredParameters(taps);
    }
}
