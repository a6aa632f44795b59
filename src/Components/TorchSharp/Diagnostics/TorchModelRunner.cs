using Pipelines.Components.Diagnostics;
using Pipelines.Components.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp.Diagnostics;

/// <summary>Runs either TorchSharp model on a <see cref="DiagnosticBatch"/> with a capture, as the managed diagnostics' <c>ModelRunner</c> does for the engine.</summary>
internal static class TorchModelRunner
{
    public static TransformerConfig Config(nn.Module model) => model switch
    {
        TorchGptModel gpt => gpt.Config,
        TorchEncoderClassifier encoder => encoder.Config,
        _ => throw Unsupported(model),
    };

    public static Device Device(nn.Module model) => model switch
    {
        TorchGptModel gpt => gpt.Device,
        TorchEncoderClassifier encoder => encoder.Device,
        _ => throw Unsupported(model),
    };

    /// <summary>The GPT attends causally and ignores <see cref="DiagnosticBatch.KeyMask"/> in its forward pass (the entropy still skips masked rows), as the engine's.</summary>
    public static bool IsCausal(nn.Module model) => model is TorchGptModel;

    /// <summary>The batch's mean loss, as the model's training loss defines it, with every block recorded in <paramref name="capture"/>.</summary>
    public static Tensor Loss(nn.Module model, DiagnosticBatch batch, TorchForwardCapture capture)
    {
        var device = Device(model);
        var tokens = Int64(batch.Tokens, device, batch.BatchSize, batch.TokenCount);
        return model switch
        {
            TorchGptModel gpt => TorchGptModel.Loss(gpt.Forward(tokens, capture), Int64(batch.Targets, device, batch.BatchSize, batch.TokenCount)),
            TorchEncoderClassifier encoder => TorchEncoderClassifier.Loss(
                encoder.Forward(tokens, batch.KeyMask is null ? null : tensor(batch.KeyMask, [batch.BatchSize, batch.TokenCount], device: device).ne(0), capture),
                Int64(batch.Targets, device, batch.BatchSize)),
            _ => throw Unsupported(model),
        };
    }

    /// <summary>Checks every batch against the model's shape before anything runs, naming the batch and the value.</summary>
    /// <exception cref="ArgumentException">A batch does not fit the model.</exception>
    public static void Check(nn.Module model, IReadOnlyList<DiagnosticBatch> batches, string parameterName)
    {
        var config = Config(model);
        for (var index = 0; index < batches.Count; index++)
        {
            var batch = batches[index] ?? throw new ArgumentException($"Batch {index} is null.", parameterName);
            try
            {
                ModelInputValidation.CheckBatch(config, batch.Tokens, batch.BatchSize, batch.TokenCount);
                var (targetCount, classCount) = model is TorchEncoderClassifier encoder
                    ? (batch.BatchSize, encoder.ClassCount)
                    : (batch.BatchSize * batch.TokenCount, config.VocabularySize);
                ModelInputValidation.CheckTargets(batch.Targets, targetCount, classCount, nameof(DiagnosticBatch.Targets));
                if (batch.KeyMask is { } mask && mask.Length != batch.BatchSize * batch.TokenCount)
                    throw new ArgumentException($"The key mask has {mask.Length} entries; [B, T] is {batch.BatchSize * batch.TokenCount}.", nameof(DiagnosticBatch.KeyMask));
            }
            catch (ArgumentException exception)
            {
                throw new ArgumentException($"Batch {index} does not fit the model: {exception.Message}", parameterName, exception);
            }
        }
    }

    private static Tensor Int64(int[] values, Device device, params long[] shape) =>
        tensor(values.Select(value => (long)value).ToArray(), shape, dtype: ScalarType.Int64, device: device);

    private static NotSupportedException Unsupported(nn.Module model) =>
        new($"Diagnostics run {nameof(TorchGptModel)} and {nameof(TorchEncoderClassifier)}, not {model.GetType().Name}.");
}
