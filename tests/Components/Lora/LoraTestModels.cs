using Pipelines.Components.Compute;
using Pipelines.Components.Lora;
using Pipelines.Components.Models;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Lora;

/// <summary>Tiny models and batches shared by the LoRA tests.</summary>
internal static class LoraTestModels
{
    public static readonly TransformerConfig Tiny = new(layerCount: 3, headCount: 2, channels: 8, contextLength: 6, vocabularySize: 11);
    public static readonly int[] Tokens = [1, 4, 6, 0, 2, 3, 3, 5, 9, 10];
    public static readonly int[] Targets = [4, 6, 0, 2, -1, 5, 9, 10, 1, 2];
    public static readonly int[] EncoderTokens = [1, 4, 6, 0, 2, 3, 3, 5, 9, 10, 7, 7];
    public static readonly byte[] EncoderMask = [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0];
    public static readonly int[] EncoderLabels = [0, 2, 1];

    public static GptModel Gpt(ulong seed = 3) => GptModel.Create(Tiny, seed, Parallelism.Sequential);

    public static EncoderClassifier Encoder(ulong seed = 4) => EncoderClassifier.Create(Tiny, classCount: 3, seed, Parallelism.Sequential);

    public static float Run(GptModel model) => model.Forward(Tokens, Targets, 2, 5);

    public static float Run(EncoderClassifier model) => model.Forward(EncoderTokens, EncoderMask, EncoderLabels, 3, 4);

    /// <summary>Every projection of every layer, rank 2, alpha 4.</summary>
    public static LoraInjectionPlan EveryProjection(double dropout = 0, bool useRsLora = false, int rank = 2) =>
        LoraInjectionPlan.Uniform([0, 1, 2], rank, 4, LoraProjections.All, dropout, useRsLora);

    /// <summary>Gives every B (and A) seeded random values so the adapter changes the outputs.</summary>
    public static void Randomize(LoraAdapter adapter, int seed, float scale = 0.3f)
    {
        foreach (var slice in adapter.Parameters.Parameters)
            GradientCheck.RandomArray(slice.Length, seed + slice.Index, scale).CopyTo(adapter.Parameters.ValuesOf(slice));
    }
}
