using System.Numerics.Tensors;
using Pipelines.Components.Optimization;
using Pipelines.Components.Tensors;

namespace Pipelines.Components.Privacy;

/// <summary>Turns DP-SGD's noisy sum into a mean: <c>g~ = G / (q N)</c>, the <em>expected</em> batch size.</summary>
/// <remarks>
/// Dividing by the realised Poisson batch size would make the update depend on it, and the size is not protected by
/// the noise; q N is public (Abadi et al. 2016, arXiv 1607.00133; as Opacus).
/// </remarks>
public sealed class DivideByExpectedBatchSize : IGradientTransform
{
    /// <summary>Divides by <c>samplingRate * datasetSize</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">q is outside (0, 1] or N is below 1.</exception>
    public DivideByExpectedBatchSize(double samplingRate, int datasetSize)
    {
        SamplingRate = PrivacyGuard.SamplingRate(samplingRate, nameof(samplingRate));
        DatasetSize = datasetSize >= 1 ? datasetSize : throw new ArgumentOutOfRangeException(nameof(datasetSize), datasetSize, "datasetSize must be at least 1.");
    }

    /// <summary>q.</summary>
    public double SamplingRate { get; }

    /// <summary>N.</summary>
    public int DatasetSize { get; }

    /// <summary>q N.</summary>
    public double ExpectedBatchSize => SamplingRate * DatasetSize;

    /// <inheritdoc />
    public TransformState Init(ParameterArena arena) => new EmptyState(nameof(DivideByExpectedBatchSize));

    /// <inheritdoc />
    public void Update(Span<float> updates, ReadOnlySpan<float> parameters, TransformState state, in UpdateContext context)
    {
        TransformGuard.StateAs<EmptyState>(state, nameof(DivideByExpectedBatchSize));
        TransformGuard.CheckBuffers(updates, parameters, context);
        var factor = (float)(1 / ExpectedBatchSize);
        foreach (var slice in context.Parameters)
        {
            var update = updates[slice.Range];
            TensorPrimitives.Multiply(update, factor, update);
        }
    }
}
