using Pipelines.Components.Models;
using static TorchSharp.torch;

namespace Pipelines.Components.TorchSharp;

/// <summary>Shape checks of the modules' inputs, so a wrong batch fails with the parameter's name rather than deep in libtorch.</summary>
internal static class TorchInputs
{
    /// <summary>Checks that <paramref name="tokens"/> is an int64 [B, T] tensor with 1 ≤ T ≤ the context length; returns T.</summary>
    public static long CheckTokens(Tensor tokens, TransformerConfig config, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(tokens, parameterName);
        if (tokens.dim() != 2)
            throw new ArgumentException($"Expected token ids [B, T], got a tensor of shape [{string.Join(", ", tokens.shape)}].", parameterName);
        if (tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"Expected int64 token ids, got {tokens.dtype}.", parameterName);
        var tokenCount = tokens.shape[1];
        if (tokenCount < 1 || tokenCount > config.ContextLength)
            throw new ArgumentException($"The sequences have {tokenCount} tokens; the model takes 1 to {config.ContextLength}.", parameterName);
        return tokenCount;
    }
}
