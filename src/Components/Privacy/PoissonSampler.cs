using Pipelines.Components.Compute;

namespace Pipelines.Components.Privacy;

/// <summary>Draws DP-SGD batches by Poisson sampling: each example joins independently with probability q.</summary>
/// <remarks>
/// <para>
/// The batch size is Binomial(N, q): it varies from step to step and may be 0. This is the sampling the RDP
/// accountant assumes (Mironov, Talwar and Zhang 2019, arXiv 1908.10530; Abadi et al. 2016, arXiv 1607.00133);
/// fixed-size shuffled batches break its guarantee. The noisy sum is divided by the <em>expected</em> size q N
/// (see <see cref="DivideByExpectedBatchSize"/>), never by the realised one, which would leak the batch size.
/// </para>
/// <para>
/// <see cref="SampleStep"/> draws step s's batch from its own stream of the seed (<see cref="SeededRandom.ForStream"/>),
/// so a resumed run draws the same batches without replaying earlier steps.
/// </para>
/// </remarks>
public sealed class PoissonSampler
{
    // Keeps the sampler's streams apart from a noise source given the same seed.
    private const ulong StreamDomain = 0x5041_4D50_4C45_5253UL;

    /// <summary>Creates a sampler over examples 0..N-1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N is below 1 or q is outside (0, 1].</exception>
    public PoissonSampler(int exampleCount, double samplingRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(exampleCount, 1);
        ExampleCount = exampleCount;
        SamplingRate = PrivacyGuard.SamplingRate(samplingRate, nameof(samplingRate));
    }

    /// <summary>N, the number of examples.</summary>
    public int ExampleCount { get; }

    /// <summary>q, each example's probability of joining a batch.</summary>
    public double SamplingRate { get; }

    /// <summary>q N, the expected batch size (the divisor of the noisy sum).</summary>
    public double ExpectedBatchSize => SamplingRate * ExampleCount;

    /// <summary>One batch: the indices, ascending, of the examples whose uniform draw fell below q (one draw per example).</summary>
    public int[] Sample(SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Sample(random.NextDouble);
    }

    /// <summary>One batch drawn with the operating system's cryptographically secure generator, for releases (secure noise needs secure sampling too).</summary>
    public int[] SampleSecure() => Sample(new SecureUniform().Next);

    private int[] Sample(Func<double> uniform)
    {
        var batch = new List<int>((int)Math.Min(ExampleCount, 2 * ExpectedBatchSize + 16));
        for (var example = 0; example < ExampleCount; example++)
        {
            if (uniform() < SamplingRate) batch.Add(example);
        }

        return [.. batch];
    }

    /// <summary>The batch of step <paramref name="step"/> of a run seeded with <paramref name="seed"/>: the same for the same pair, independent across steps.</summary>
    public int[] SampleStep(ulong seed, long step) => Sample(SeededRandom.ForStream(seed ^ StreamDomain, unchecked((ulong)step)));
}
