using Pipelines.Components.Kernels;

namespace Pipelines.Components.Models;

/// <summary>Checks a batch once at the model boundary so that bad input never reaches a kernel.</summary>
internal static class ModelInputValidation
{
    public static void CheckBatch(TransformerConfig config, ReadOnlySpan<int> tokens, int batchSize, int tokenCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokenCount, 1);
        if (tokenCount > config.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(tokenCount), tokenCount, $"The sequence is longer than the model's context of {config.ContextLength} tokens.");
        KernelGuard.RequireLength(tokens.Length, (long)batchSize * tokenCount, nameof(tokens));
        for (var index = 0; index < tokens.Length; index++)
        {
            if ((uint)tokens[index] >= (uint)config.VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[index], $"Token id at index {index} is outside the vocabulary [0, {config.VocabularySize}).");
        }
    }

    public static void CheckTargets(ReadOnlySpan<int> targets, long expectedLength, int classCount, string name)
    {
        KernelGuard.RequireLength(targets.Length, expectedLength, name);
        for (var index = 0; index < targets.Length; index++)
        {
            if (targets[index] != -1 && (uint)targets[index] >= (uint)classCount)
                throw new ArgumentOutOfRangeException(name, targets[index], $"Target at index {index} is outside [0, {classCount}) and is not the ignore value -1.");
        }
    }
}
