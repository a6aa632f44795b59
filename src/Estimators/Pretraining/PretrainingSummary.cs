namespace Pipelines.Pretraining;

/// <summary>What a pre-training run was: enough to read a saved model's provenance.</summary>
/// <param name="Steps">Updates made.</param>
/// <param name="BatchSize">Sequences per step.</param>
/// <param name="SequenceLength">Tokens per sequence.</param>
/// <param name="Seed">Seed of the initial weights and the batch order.</param>
/// <param name="TrainingTokenCount">Tokens in the training stream (separators included).</param>
public sealed record PretrainingSummary(long Steps, int BatchSize, int SequenceLength, int Seed, long TrainingTokenCount);

/// <summary>The columns a language model reads and adds.</summary>
internal sealed record LanguageModelColumns(string Tokens, string Loss, string Perplexity);
