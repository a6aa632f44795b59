using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Models;
using Pipelines.Pretraining;

namespace QuickStart;

/// <summary>Checks that a reloaded model predicts exactly what the trained one does.</summary>
internal static class ModelCheck
{
    /// <summary>Whether both give bit-identical per-row losses on the first rows of <paramref name="data"/> and the same greedy continuation.</summary>
    public static bool SamePredictions(MLContext context, TransformerChain<CausalLanguageModelTransformer> trained, TransformerChain<ITransformer> reloaded, IDataView data, int rowCount = 4)
    {
        var rows = context.Data.TakeRows(data, rowCount);
        var expected = trained.Transform(rows).GetColumn<float>("Loss").ToArray();
        var actual = reloaded.Transform(rows).GetColumn<float>("Loss").ToArray();
        var greedy = new GenerationOptions { Temperature = 0 };
        var sameText = trained.GetLanguageModel().Generate([], 32, greedy).SequenceEqual(reloaded.GetLanguageModel().Generate([], 32, greedy));
        return sameText && expected.Length == rowCount && expected.Select(BitConverter.SingleToInt32Bits).SequenceEqual(actual.Select(BitConverter.SingleToInt32Bits));
    }
}
