using Pipelines.Components.Models;

namespace Pipelines.Components.Diagnostics;

/// <summary>Runs either engine model on a <see cref="DiagnosticBatch"/>, so diagnostics need no per-model code.</summary>
internal static class ModelRunner
{
    public static float Forward(ITransformerModel model, DiagnosticBatch batch) => model switch
    {
        GptModel gpt => gpt.Forward(batch.Tokens, batch.Targets, batch.BatchSize, batch.TokenCount),
        EncoderClassifier encoder => encoder.Forward(batch.Tokens, batch.KeyMask ?? ReadOnlySpan<byte>.Empty, batch.Targets, batch.BatchSize, batch.TokenCount),
        _ => throw new NotSupportedException($"Diagnostics run {nameof(GptModel)} and {nameof(EncoderClassifier)}, not {model.GetType().Name}."),
    };

    public static void Backward(ITransformerModel model)
    {
        switch (model)
        {
            case GptModel gpt:
                gpt.Backward();
                break;
            case EncoderClassifier encoder:
                encoder.Backward();
                break;
            default:
                throw new NotSupportedException($"Diagnostics run {nameof(GptModel)} and {nameof(EncoderClassifier)}, not {model.GetType().Name}.");
        }
    }

    public static bool IsCausal(ITransformerModel model) => model is GptModel;
}
