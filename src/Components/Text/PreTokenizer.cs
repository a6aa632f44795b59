using System.Globalization;
using System.Text;

namespace Pipelines.Components.Text;

/// <summary>
/// Splits text into the chunks that byte-pair merges may not cross, in the manner of GPT-2's pattern,
/// scanned by hand in one pass (no regular expression, so no backtracking blow-ups).
/// </summary>
/// <remarks>
/// Chunk kinds, tried in this order at each position (compare GPT-2's
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>):
/// <list type="number">
/// <item>an English contraction suffix: <c>'s 't 're 've 'm 'll 'd</c> (lower case, as in GPT-2);</item>
/// <item>an optional single space followed by a run of letters (Unicode categories L*, plus combining
/// marks M* so that accented and Indic words stay whole);</item>
/// <item>an optional single space followed by a run of digits (categories N*);</item>
/// <item>an optional single space followed by a run of other characters (not whitespace, letter or digit);</item>
/// <item>a run of whitespace; if non-whitespace follows, the run's last character is left out
/// so that a single space can attach to the next word.</item>
/// </list>
/// Code points are scanned as <see cref="Rune"/>s, so a surrogate pair never straddles two chunks; a lone
/// surrogate counts as an "other" character. A chunk longer than <see cref="MaximumChunkLength"/> chars is
/// cut: its first <see cref="MaximumChunkLength"/> chars (one fewer if that would split a surrogate pair) form
/// a chunk and scanning starts again after them. This bounds the cost of encoding pathological input such as
/// a megabyte without spaces.
/// </remarks>
public static class PreTokenizer
{
    /// <summary>Chunks are at most this many UTF-16 chars long.</summary>
    public const int MaximumChunkLength = 256;

    /// <summary>Calls <paramref name="onChunk"/>(start, length) for each chunk of <paramref name="text"/>, in order.</summary>
    /// <remarks>The chunks cover the text exactly, without gaps or overlap.</remarks>
    public static void Split(ReadOnlySpan<char> text, ChunkAction onChunk)
    {
        ArgumentNullException.ThrowIfNull(onChunk);
        var position = 0;
        while (position < text.Length)
        {
            var length = NextChunk(text, position);
            onChunk(position, length);
            position += length;
        }
    }

    /// <summary>The chunks of <paramref name="text"/> as strings (convenient for tests and inspection).</summary>
    public static IReadOnlyList<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chunks = new List<string>();
        Split(text.AsSpan(), (start, length) => chunks.Add(text.Substring(start, length)));
        return chunks;
    }

    /// <summary>Receives one chunk as a start index and a length in UTF-16 chars.</summary>
    public delegate void ChunkAction(int start, int length);

    /// <summary>Length of the chunk that starts at <paramref name="start"/> (at most <see cref="MaximumChunkLength"/>).</summary>
    /// <remarks>Scans at most <see cref="MaximumChunkLength"/> + 2 chars, so splitting is linear even for endless runs.</remarks>
    internal static int NextChunk(ReadOnlySpan<char> text, int start)
    {
        // Runs that reach the end of the window are longer than the cap and get cut to it, so the window
        // never changes a result that is not cut.
        var window = text.Slice(start, Math.Min(text.Length - start, MaximumChunkLength + 2));
        var length = NextChunkLength(window, 0);
        if (length <= MaximumChunkLength) return length;
        return char.IsHighSurrogate(window[MaximumChunkLength - 1]) && char.IsLowSurrogate(window[MaximumChunkLength])
            ? MaximumChunkLength - 1
            : MaximumChunkLength;
    }

    private enum CharacterClass
    {
        Letter,
        Digit,
        Whitespace,
        Other,
    }

    private static int NextChunkLength(ReadOnlySpan<char> text, int start)
    {
        var contraction = ContractionLength(text, start);
        if (contraction > 0) return contraction;

        var (first, firstWidth) = Classify(text, start);
        if (first == CharacterClass.Whitespace)
        {
            // A single space directly before a non-space joins the next chunk.
            if (text[start] == ' ' && start + 1 < text.Length)
            {
                var (next, _) = Classify(text, start + 1);
                if (next != CharacterClass.Whitespace) return 1 + RunLength(text, start + 1, next);
            }

            var end = start;
            var lastWidth = 0;
            while (end < text.Length)
            {
                var (kind, width) = Classify(text, end);
                if (kind != CharacterClass.Whitespace) break;
                lastWidth = width;
                end += width;
            }

            // Leave the last whitespace char for the following word, unless the run ends the text.
            var runLength = end - start;
            if (end < text.Length && runLength > lastWidth) runLength -= lastWidth;
            return runLength;
        }

        return firstWidth + RunLength(text, start + firstWidth, first);
    }

    /// <summary>Length of the run of <paramref name="kind"/> characters starting at <paramref name="start"/>.</summary>
    private static int RunLength(ReadOnlySpan<char> text, int start, CharacterClass kind)
    {
        var end = start;
        while (end < text.Length)
        {
            var (next, width) = Classify(text, end);
            if (next != kind) break;
            end += width;
        }

        return end - start;
    }

    private static int ContractionLength(ReadOnlySpan<char> text, int start)
    {
        if (text[start] != '\'' || start + 1 >= text.Length) return 0;
        var rest = text[(start + 1)..];
        if (rest.StartsWith("re", StringComparison.Ordinal) || rest.StartsWith("ve", StringComparison.Ordinal) || rest.StartsWith("ll", StringComparison.Ordinal)) return 3;
        return rest[0] is 's' or 't' or 'm' or 'd' ? 2 : 0;
    }

    private static (CharacterClass Kind, int Width) Classify(ReadOnlySpan<char> text, int index)
    {
        var character = text[index];
        if (character < 0x80)
        {
            if (char.IsAsciiLetter(character)) return (CharacterClass.Letter, 1);
            if (char.IsAsciiDigit(character)) return (CharacterClass.Digit, 1);
            return (char.IsWhiteSpace(character) ? CharacterClass.Whitespace : CharacterClass.Other, 1);
        }

        if (Rune.DecodeFromUtf16(text[index..], out var rune, out var width) != System.Buffers.OperationStatus.Done)
            return (CharacterClass.Other, 1);

        if (Rune.IsWhiteSpace(rune)) return (CharacterClass.Whitespace, width);
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                => (CharacterClass.Letter, width),
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
                => (CharacterClass.Digit, width),
            _ => (CharacterClass.Other, width),
        };
    }
}
