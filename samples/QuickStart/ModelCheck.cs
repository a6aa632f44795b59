using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Models;
using Pipelines.Pretraining;

namespace QuickStart;

/// <summary>Checks that a reloaded model predicts exactly what the trained one does.</summary>
internal static class ModelCheck
{
    /// <summary>
    /// Whether both give the same per-row losses on the first rows of <paramref name="data"/> (bit-identical when
    /// <paramref name="relativeTolerance"/> is 0) and the same greedy continuation.
    /// </summary>
    public static bool SamePredictions(MLContext context, TransformerChain<CausalLanguageModelTransformer> trained, TransformerChain<ITransformer> reloaded, IDataView data,
        double relativeTolerance, int rowCount = 4)
    {
        var rows = context.Data.TakeRows(data, rowCount);
        var expected = trained.Transform(rows).GetColumn<float>("Loss").ToArray();
        var actual = reloaded.Transform(rows).GetColumn<float>("Loss").ToArray();
        var greedy = new GenerationOptions { Temperature = 0 };
        var sameText = trained.GetLanguageModel().Generate([], 32, greedy).SequenceEqual(reloaded.GetLanguageModel().Generate([], 32, greedy));
        if (!sameText || expected.Length != rowCount || actual.Length != rowCount) return false;
        return relativeTolerance == 0
            ? expected.Select(BitConverter.SingleToInt32Bits).SequenceEqual(actual.Select(BitConverter.SingleToInt32Bits))
            : expected.Zip(actual).All(pair => Math.Abs(pair.First - pair.Second) <= relativeTolerance * Math.Abs(pair.First));
    }
}
