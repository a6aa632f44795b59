using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Models;
using Pipelines.Pretraining;

namespace Pipelines.Components.TorchSharp.Tests.Support;

/// <summary>Token keys (id + 1) of a 29-id vocabulary.</summary>
public sealed class TokenRow
{
    [KeyType(29)]
    public uint[] Tokens { get; set; } = [];
}

/// <summary>The estimator tests' data and pre-training options: 40 short documents of a 28-id vocabulary (id 28 ends a text) and a one-block GPT.</summary>
internal static class TinyCorpus
{
    /// <summary>The 40 documents as a <c>Tokens</c> key column.</summary>
    public static IDataView Rows(MLContext context)
    {
        var rows = Enumerable.Range(0, 40).Select(row => ManagedModels.Tokens(12 + row % 7, 28, seed: (ulong)row + 100));
        return context.Data.LoadFromEnumerable(rows.Select(row => new TokenRow { Tokens = [.. row.Select(id => (uint)(id + 1))] }));
    }

    /// <summary>Pre-training of a 1-block, width-16 GPT over context 8 for <paramref name="steps"/> steps (batch 4, rate 1e-2, seed 3, one thread, no evaluation), on the managed backend.</summary>
    public static CausalLanguageModelOptions Options(int steps) => new()
    {
        Model = new TransformerConfig(layerCount: 1, headCount: 2, channels: 16, contextLength: 8),
        EndOfTextTokenId = 28,
        BatchSize = 4,
        Steps = steps,
        EvaluationInterval = 0,
        LearningRate = 1e-2,
        ThreadCount = 1,
        Seed = 3,
    };
}
