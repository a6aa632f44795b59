using Microsoft.ML.Tokenizers;
using Pipelines.Components.Text;

namespace Pipelines.Components.Tests.Text;

/// <summary>
/// A <see cref="BytePairEncoding"/> and the two Microsoft.ML.Tokenizers <see cref="BpeTokenizer"/>s loaded from its
/// GPT-2 files: one that reads special-token text as plain text (like <see cref="BytePairEncoding.Encode"/>) and one
/// that parses it (like <see cref="BytePairEncoding.EncodeWithSpecialTokens"/>).
/// </summary>
internal sealed record BpeTokenizerPair(BytePairEncoding Ours, BpeTokenizer Plain, BpeTokenizer WithSpecialTokens)
{
    public static BpeTokenizerPair Load(BytePairEncoding encoding)
    {
        var directory = Directory.CreateTempSubdirectory("bpe-gpt2-").FullName;
        try
        {
            encoding.SaveGpt2Files(directory);
            return new BpeTokenizerPair(encoding, Create(directory, encoding, []), Create(directory, encoding, encoding.SpecialTokens));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A difference between the two on <paramref name="text"/>, or null when ids and decoded text agree.</summary>
    public string? Difference(string text)
    {
        var ours = Ours.Encode(text);
        var theirs = Plain.EncodeToIds(text).ToArray();
        if (!ours.SequenceEqual(theirs)) return $"Encode ids differ: ours [{Shorten(ours)}], BpeTokenizer [{Shorten(theirs)}]";
        var oursWithSpecials = Ours.EncodeWithSpecialTokens(text);
        var theirsWithSpecials = WithSpecialTokens.EncodeToIds(text).ToArray();
        if (!oursWithSpecials.SequenceEqual(theirsWithSpecials))
            return $"EncodeWithSpecialTokens ids differ: ours [{Shorten(oursWithSpecials)}], BpeTokenizer [{Shorten(theirsWithSpecials)}]";
        foreach (var tokens in new[] { ours, oursWithSpecials })
        {
            var decoded = Ours.Decode(tokens);
            var theirsDecoded = WithSpecialTokens.Decode(tokens);
            if (decoded != theirsDecoded) return $"Decode differs: ours '{Escape(decoded)}', BpeTokenizer '{Escape(theirsDecoded)}'";
        }

        return null;
    }

    private static BpeTokenizer Create(string directory, BytePairEncoding encoding, IReadOnlyList<string> specialTokens) =>
        BpeTokenizer.Create(new BpeOptions(Path.Combine(directory, BytePairEncoding.VocabularyFileName), Path.Combine(directory, BytePairEncoding.MergesFileName))
        {
            ByteLevel = true,
            PreTokenizer = new PreTokenizerAdapter(specialTokens),
            SpecialTokens = specialTokens.Count == 0 ? null : specialTokens.ToDictionary(token => token, encoding.GetSpecialTokenId),
        });

    private static string Shorten(int[] tokens) =>
        string.Join(", ", tokens.Take(12)) + (tokens.Length > 12 ? $", ... ({tokens.Length} ids)" : "");

    private static string Escape(string text) =>
        string.Concat(text.Take(40).Select(character => character is < ' ' or > '~' ? $"\\u{(int)character:X4}" : character.ToString()));
}
