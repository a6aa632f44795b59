namespace Pipelines.Components.Diagnostics;

/// <summary>One batch of the target task, as the model's own forward pass takes it.</summary>
/// <param name="Tokens">Token ids [B, T].</param>
/// <param name="Targets">GPT: next tokens [B, T] (-1 = ignore); encoder: class labels [B].</param>
/// <param name="BatchSize">B.</param>
/// <param name="TokenCount">T.</param>
/// <param name="KeyMask">Encoder only: [B, T], 1 = token, 0 = padding; null = no padding.</param>
public sealed record DiagnosticBatch(int[] Tokens, int[] Targets, int BatchSize, int TokenCount, byte[]? KeyMask = null)
{
    /// <summary>Whether token <paramref name="row"/> (of the B·T rows) is a real token rather than padding.</summary>
    public bool IsValidRow(int row) => KeyMask is null || KeyMask[row] != 0;
}
