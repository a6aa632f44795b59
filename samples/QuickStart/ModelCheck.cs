using Pipelines;
using Pipelines.Components.Models;
using Pipelines.Pretraining;

namespace QuickStart;

/// <summary>Checks that a reloaded model predicts exactly what the trained one does.</summary>
internal static class ModelCheck
{
    /// <summary>Whether both give bit-identical per-row losses on the first rows of <paramref name="data"/> and the same greedy continuation.</summary>
    public static bool SamePredictions(PipelineContext context, ITransformer trained, TransformerChain<ITransformer> reloaded, IDataView data, int rowCount = 4)
    {
        var rows = context.Data.TakeRows(data, rowCount);
        var expected = Losses(trained.Transform(rows));
        var actual = Losses(reloaded.Transform(rows));
        var greedy = new GenerationOptions { Temperature = 0 };
        var trainedModel = ((TransformerChain<CausalLanguageModelTransformer>)trained).GetLanguageModel();
        var sameText = trainedModel.Generate([], 32, greedy).SequenceEqual(reloaded.GetLanguageModel().Generate([], 32, greedy));
        return sameText && expected.Length == rowCount && expected.Select(BitConverter.SingleToInt32Bits).SequenceEqual(actual.Select(BitConverter.SingleToInt32Bits));
    }

    private static float[] Losses(IDataView scored)
    {
        var column = scored.Schema["Loss"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<float>(column);
        var losses = new List<float>();
        var loss = 0f;
        while (cursor.MoveNext())
        {
            getter(ref loss);
            losses.Add(loss);
        }

        return [.. losses];
    }
}
