using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace Pipelines.Components.Text;

/// <summary>
/// A byte-level byte-pair-encoding tokenizer: ids 0-255 are the bytes, then one id per merge in the order
/// learned, then the special tokens. Made by <see cref="BytePairEncodingTrainer"/> or loaded with
/// <see cref="Load(Stream)"/>.
/// </summary>
/// <remarks>
/// Encoding (Sennrich et al., arXiv:1508.07909; byte-level as in GPT-2): the text is cut into chunks by
/// <see cref="PreTokenizer"/>, each chunk is turned into its UTF-8 bytes, and then, repeatedly, the adjacent pair
/// with the earliest merge is replaced everywhere in the chunk (left to right, without overlap) by that merge's
/// token, until no adjacent pair has a merge. Results are cached per chunk text.
/// <para>
/// Round trip: <c>Decode(Encode(s)) == s</c> for every well-formed UTF-16 string (emoji, CJK and
/// combining marks included), since chunks never split a surrogate pair. A lone (unpaired) surrogate cannot
/// be represented in UTF-8; like <see cref="Encoding.UTF8"/>, it is encoded as the replacement character
/// U+FFFD (bytes EF BF BD), so in general <c>Decode(Encode(s)) == Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s))</c>.
/// </para>
/// Instances are immutable apart from the cache and safe to use from several threads.
/// </remarks>
public sealed partial class BytePairEncoding
{
    /// <summary>Number of base tokens: one per byte value.</summary>
    public const int ByteTokenCount = 256;

    /// <summary>The chunk cache is cleared when it holds this many entries, which bounds its memory.</summary>
    private const int CacheCapacity = 1 << 16;

    private readonly (int Left, int Right)[] merges;
    private readonly string[] specialTokens;
    private readonly byte[][] tokenBytes;
    private readonly Dictionary<long, int> mergedTokenOfPair;
    private readonly Dictionary<string, int> specialTokenIds;
    private readonly ConcurrentDictionary<string, int[]> chunkCache = new(StringComparer.Ordinal);

    /// <summary>Creates an encoding from its merges (in the order learned) and its special tokens.</summary>
    /// <param name="merges">Merge <c>i</c> joins tokens <c>Left</c> and <c>Right</c> into token 256 + i; both must be below 256 + i.</param>
    /// <param name="specialTokens">Distinct, non-empty, well-formed strings; they get the last ids in this order.</param>
    /// <exception cref="ArgumentException">A merge refers to a later token or repeats an earlier pair, or a special token is empty, malformed or repeated.</exception>
    public BytePairEncoding(IReadOnlyList<(int Left, int Right)> merges, IReadOnlyList<string> specialTokens)
    {
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(specialTokens);
        this.merges = merges.ToArray();
        this.specialTokens = specialTokens.ToArray();
        ValidateSpecialTokens(this.specialTokens, nameof(specialTokens));
        if ((long)ByteTokenCount + this.merges.Length + this.specialTokens.Length > BytePairEncodingTrainerOptions.MaximumVocabularySize)
            throw new ArgumentException($"{this.merges.Length} merges and {this.specialTokens.Length} special tokens exceed the largest vocabulary, {BytePairEncodingTrainerOptions.MaximumVocabularySize}.", nameof(merges));

        tokenBytes = new byte[ByteTokenCount + this.merges.Length + this.specialTokens.Length][];
        for (var value = 0; value < ByteTokenCount; value++) tokenBytes[value] = [(byte)value];

        mergedTokenOfPair = new Dictionary<long, int>(this.merges.Length);
        for (var index = 0; index < this.merges.Length; index++)
        {
            var (left, right) = this.merges[index];
            var token = ByteTokenCount + index;
            if ((uint)left >= (uint)token || (uint)right >= (uint)token)
                throw new ArgumentException($"Merge {index} ({left}, {right}) must join tokens below {token}.", nameof(merges));
            if (!mergedTokenOfPair.TryAdd(PairKey(left, right), token))
                throw new ArgumentException($"Merge {index} ({left}, {right}) repeats merge {mergedTokenOfPair[PairKey(left, right)] - ByteTokenCount}.", nameof(merges));
            tokenBytes[token] = [.. tokenBytes[left], .. tokenBytes[right]];
        }

        specialTokenIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var index = 0; index < this.specialTokens.Length; index++)
        {
            var id = ByteTokenCount + this.merges.Length + index;
            specialTokenIds.Add(this.specialTokens[index], id);
            tokenBytes[id] = Encoding.UTF8.GetBytes(this.specialTokens[index]);
        }

        Merges = Array.AsReadOnly(this.merges);
        SpecialTokens = Array.AsReadOnly(this.specialTokens);
    }

    /// <summary>Number of token ids: 256 + merges + special tokens.</summary>
    public int VocabularySize => tokenBytes.Length;

    /// <summary>The merges in the order learned; merge <c>i</c> makes token 256 + i.</summary>
    public IReadOnlyList<(int Left, int Right)> Merges { get; }

    /// <summary>The special tokens; token <c>SpecialTokens[i]</c> has id 256 + <c>Merges.Count</c> + i.</summary>
    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>The id of a special token.</summary>
    /// <exception cref="KeyNotFoundException">It is not one of <see cref="SpecialTokens"/>.</exception>
    public int GetSpecialTokenId(string specialToken) =>
        specialTokenIds.TryGetValue(specialToken, out var id)
            ? id
            : throw new KeyNotFoundException($"'{specialToken}' is not a special token of this encoding.");

    /// <summary>Gets the id of a special token, if it is one.</summary>
    public bool TryGetSpecialTokenId(string specialToken, out int id) => specialTokenIds.TryGetValue(specialToken, out id);

    /// <summary>Whether <paramref name="id"/> is a special token's id.</summary>
    public bool IsSpecialToken(int id) => id >= ByteTokenCount + merges.Length && id < VocabularySize;

    /// <summary>The bytes a token stands for (UTF-8 text for special tokens).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not below <see cref="VocabularySize"/>.</exception>
    public ReadOnlySpan<byte> GetTokenBytes(int id)
    {
        if ((uint)id >= (uint)VocabularySize) throw new ArgumentOutOfRangeException(nameof(id), id, $"Token ids are below {VocabularySize}.");
        return tokenBytes[id];
    }

    /// <summary>Encodes text as plain text: special-token strings in it are encoded like any other text.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<int>(text.Length / 3 + 1);
        EncodePlain(text, tokens);
        return [.. tokens];
    }

    /// <summary>
    /// Encodes text in which occurrences of <see cref="SpecialTokens"/> become their special ids (the earliest
    /// occurrence first; the longest token when several start at the same place).
    /// </summary>
    /// <remarks>Use only on trusted text: a user could otherwise inject control tokens such as end-of-text.</remarks>
    public int[] EncodeWithSpecialTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<int>(text.Length / 3 + 1);
        var position = 0;
        foreach (var (start, specialIndex) in FindSpecialTokens(text, specialTokens))
        {
            EncodePlain(text.AsSpan(position, start - position), tokens);
            tokens.Add(ByteTokenCount + merges.Length + specialIndex);
            position = start + specialTokens[specialIndex].Length;
        }

        EncodePlain(text.AsSpan(position), tokens);
        return [.. tokens];
    }

    /// <summary>Turns token ids back into text (the UTF-8 bytes of all tokens, joined, then decoded).</summary>
    /// <remarks>A byte sequence that is not valid UTF-8 (possible for arbitrary id sequences) decodes to U+FFFD.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative or not below <see cref="VocabularySize"/>.</exception>
    public string Decode(ReadOnlySpan<int> tokens)
    {
        var byteCount = 0;
        for (var index = 0; index < tokens.Length; index++)
        {
            if ((uint)tokens[index] >= (uint)VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[index], $"tokens[{index}] = {tokens[index]} is not a token id (the vocabulary has {VocabularySize}).");
            byteCount = checked(byteCount + tokenBytes[tokens[index]].Length);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            var written = 0;
            foreach (var token in tokens)
            {
                tokenBytes[token].CopyTo(buffer.AsSpan(written));
                written += tokenBytes[token].Length;
            }

            return Encoding.UTF8.GetString(buffer, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    internal static void ValidateSpecialTokens(IReadOnlyList<string> tokens, string parameterName)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < tokens.Count; index++)
        {
            var token = tokens[index];
            if (string.IsNullOrEmpty(token)) throw new ArgumentException($"Special token {index} is null or empty.", parameterName);
            if (!seen.Add(token)) throw new ArgumentException($"Special token '{token}' appears twice.", parameterName);
            if (!IsWellFormed(token)) throw new ArgumentException($"Special token {index} contains an unpaired surrogate.", parameterName);
        }
    }

    /// <summary>Occurrences of special tokens in <paramref name="text"/>, in order, without overlap.</summary>
    internal static IEnumerable<(int Start, int SpecialIndex)> FindSpecialTokens(string text, IReadOnlyList<string> specials)
    {
        if (specials.Count == 0) yield break;
        var nextStart = new int[specials.Count];
        for (var index = 0; index < specials.Count; index++) nextStart[index] = text.IndexOf(specials[index], StringComparison.Ordinal);

        var position = 0;
        while (true)
        {
            var best = -1;
            for (var index = 0; index < specials.Count; index++)
            {
                if (nextStart[index] >= 0 && nextStart[index] < position)
                    nextStart[index] = text.IndexOf(specials[index], position, StringComparison.Ordinal);
                if (nextStart[index] < 0) continue;
                if (best < 0 || nextStart[index] < nextStart[best] || (nextStart[index] == nextStart[best] && specials[index].Length > specials[best].Length))
                    best = index;
            }

            if (best < 0) yield break;
            yield return (nextStart[best], best);
            position = nextStart[best] + specials[best].Length;
        }
    }

    private static bool IsWellFormed(string text)
    {
        for (var index = 0; index < text.Length; index++)
        {
            if (!char.IsSurrogate(text[index])) continue;
            if (char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1])) index++;
            else return false;
        }

        return true;
    }

    private void EncodePlain(ReadOnlySpan<char> text, List<int> tokens)
    {
        var lookup = chunkCache.GetAlternateLookup<ReadOnlySpan<char>>();
        var position = 0;
        while (position < text.Length)
        {
            var length = PreTokenizer.NextChunk(text, position);
            var chunk = text.Slice(position, length);
            position += length;
            if (lookup.TryGetValue(chunk, out var cached))
            {
                tokens.AddRange(cached);
                continue;
            }

            var encoded = EncodeChunk(chunk);
            if (chunkCache.Count >= CacheCapacity) chunkCache.Clear();
            lookup.TryAdd(chunk, encoded);
            tokens.AddRange(encoded);
        }
    }

    /// <summary>Applies the merges to one chunk, earliest merge first.</summary>
    private int[] EncodeChunk(ReadOnlySpan<char> chunk)
    {
        Span<byte> bytes = stackalloc byte[PreTokenizer.MaximumChunkLength * 3];
        var byteCount = Encoding.UTF8.GetBytes(chunk, bytes);
        Span<int> symbols = stackalloc int[byteCount];
        for (var index = 0; index < byteCount; index++) symbols[index] = bytes[index];

        var count = byteCount;
        while (count > 1)
        {
            var bestToken = int.MaxValue;
            for (var index = 0; index + 1 < count; index++)
            {
                if (mergedTokenOfPair.TryGetValue(PairKey(symbols[index], symbols[index + 1]), out var token) && token < bestToken)
                    bestToken = token;
            }

            if (bestToken == int.MaxValue) break;
            var (left, right) = merges[bestToken - ByteTokenCount];
            count = ReplacePair(symbols[..count], left, right, bestToken);
        }

        return symbols[..count].ToArray();
    }

    /// <summary>Replaces each (left, right) pair, left to right without overlap, by <paramref name="merged"/>; returns the new length.</summary>
    internal static int ReplacePair(Span<int> symbols, int left, int right, int merged)
    {
        var write = 0;
        for (var read = 0; read < symbols.Length; read++)
        {
            if (read + 1 < symbols.Length && symbols[read] == left && symbols[read + 1] == right)
            {
                symbols[write++] = merged;
                read++;
            }
            else
            {
                symbols[write++] = symbols[read];
            }
        }

        return write;
    }
}
