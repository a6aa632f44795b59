namespace Pipelines.Pretraining;

/// <summary>How well a causal language model predicts a data set (<see cref="CausalLanguageModelTransformer.Evaluate"/>).</summary>
/// <param name="Loss">Mean next-token cross-entropy over every token of every row, in nats per token.</param>
/// <param name="Perplexity"><c>exp(Loss)</c>.</param>
/// <param name="BitsPerByte">
/// Total cross-entropy in bits over the total UTF-8 bytes of the tokens, <c>Σ loss / (ln 2 · bytes)</c>, when the
/// tokenizer is known; null otherwise. Unlike the loss per token it compares models with different tokenizers, and a
/// byte-unigram model's entropy of the text is its baseline.
/// </param>
/// <param name="TokenCount">Tokens predicted.</param>
/// <param name="ByteCount">UTF-8 bytes of those tokens, when the tokenizer is known.</param>
/// <param name="RowCount">Rows read.</param>
public sealed record LanguageModelMetrics(double Loss, double Perplexity, double? BitsPerByte, long TokenCount, long? ByteCount, long RowCount)
{
    /// <summary>The loss in nats per byte (<c>BitsPerByte · ln 2</c>), when the tokenizer is known.</summary>
    public double? NatsPerByte => BitsPerByte * Math.Log(2);
}
