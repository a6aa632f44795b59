using System.Globalization;

namespace Pipelines.Packaging.Tests.Support;

/// <summary>One line a consumer prints: <c>MODE LABEL SCORE SCORE</c> (<c>trained</c> or <c>reloaded</c>).</summary>
/// <param name="Mode">Whether the model was the trained one or the reloaded one.</param>
/// <param name="Label">The predicted label, mapped back to its value.</param>
/// <param name="Scores">The class probabilities.</param>
internal sealed record ConsumerPrediction(string Mode, string Label, float[] Scores)
{
    /// <summary>The prediction lines of <paramref name="output"/> with the given mode, in order.</summary>
    public static ConsumerPrediction[] Parse(string output, string mode) =>
    [
        .. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' '))
            .Where(parts => parts[0] == mode)
            .Select(parts => new ConsumerPrediction(parts[0], parts[1], [.. parts[2..].Select(score => float.Parse(score, CultureInfo.InvariantCulture))])),
    ];

    /// <summary>
    /// Asserts that the trained and the reloaded model made the same predictions on the probes: two probes, two classes
    /// each, probabilities that sum to 1, the same labels, and scores equal within <paramref name="relativeTolerance"/>.
    /// </summary>
    public static void AssertSame(ConsumerPrediction[] trained, ConsumerPrediction[] reloaded, float relativeTolerance, string transcript)
    {
        Assert.HasCount(2, trained, transcript);
        Assert.HasCount(2, reloaded, transcript);
        for (var probe = 0; probe < trained.Length; probe++)
        {
            var (before, after) = (trained[probe], reloaded[probe]);
            Assert.Contains(before.Label, new[] { "spam", "ham" }, transcript);
            Assert.AreEqual(before.Label, after.Label, transcript);
            Assert.HasCount(2, before.Scores, transcript);
            Assert.AreEqual(1f, before.Scores.Sum(), 1e-5f, transcript);
            for (var slot = 0; slot < before.Scores.Length; slot++)
                Assert.AreEqual(before.Scores[slot], after.Scores[slot], relativeTolerance * before.Scores[slot], $"probe {probe}, class {slot}\n{transcript}");
        }
    }
}
