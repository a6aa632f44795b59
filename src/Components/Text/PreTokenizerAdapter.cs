namespace Pipelines.Components.Text;

/// <summary>
/// <see cref="PreTokenizer"/> as a <see cref="Microsoft.ML.Tokenizers.PreTokenizer"/>, so that a
/// <see cref="Microsoft.ML.Tokenizers.BpeTokenizer"/> loaded from <see cref="BytePairEncoding.SaveGpt2Files"/>'s
/// files cuts text at exactly the places <see cref="BytePairEncoding"/> does.
/// </summary>
/// <remarks>
/// With special tokens, each occurrence found as <see cref="BytePairEncoding.EncodeWithSpecialTokens"/> finds them
/// (earliest first, the longest at one place) is a piece of its own, which a <c>BpeTokenizer</c> given the same
/// special tokens turns into their ids; the text between occurrences is cut by <see cref="PreTokenizer"/>. Without
/// special tokens the pieces are exactly <see cref="PreTokenizer"/>'s chunks, as in <see cref="BytePairEncoding.Encode"/>.
/// </remarks>
public sealed class PreTokenizerAdapter : Microsoft.ML.Tokenizers.PreTokenizer
{
    private readonly string[] specialTokens;

    /// <summary>Creates the adapter; <paramref name="specialTokens"/> are cut out whole (none: plain chunks).</summary>
    /// <exception cref="ArgumentException">A special token is empty, malformed or repeated.</exception>
    public PreTokenizerAdapter(IReadOnlyList<string> specialTokens)
    {
        ArgumentNullException.ThrowIfNull(specialTokens);
        this.specialTokens = specialTokens.ToArray();
        BytePairEncoding.ValidateSpecialTokens(this.specialTokens, nameof(specialTokens));
    }

    /// <summary>The (offset, length) of each piece of <paramref name="text"/>, in order, covering it exactly.</summary>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pieces = new List<(int Offset, int Length)>(text.Length / 4 + 1);
        var position = 0;
        foreach (var (start, specialIndex) in BytePairEncoding.FindSpecialTokens(text, specialTokens))
        {
            AddChunks(text.AsSpan(0, start), position, pieces);
            pieces.Add((start, specialTokens[specialIndex].Length));
            position = start + specialTokens[specialIndex].Length;
        }

        AddChunks(text, position, pieces);
        return pieces;
    }

    /// <summary>The (offset, length) of each piece of <paramref name="text"/>, in order, covering it exactly.</summary>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => PreTokenize(text.ToString());

    /// <summary>Adds the chunks of <paramref name="text"/> from <paramref name="position"/> to its end.</summary>
    private static void AddChunks(ReadOnlySpan<char> text, int position, List<(int Offset, int Length)> pieces)
    {
        while (position < text.Length)
        {
            var length = PreTokenizer.NextChunk(text, position);
            pieces.Add((position, length));
            position += length;
        }
    }
}
