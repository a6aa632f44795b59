using System.Runtime.InteropServices;
using System.Text;

namespace Pipelines.Components.Text;

/// <summary>Learns a byte-level <see cref="BytePairEncoding"/> from text.</summary>
/// <remarks>
/// Byte-pair encoding (Sennrich et al., arXiv:1508.07909), byte-level as in GPT-2: starting from the 256 byte
/// tokens, repeatedly join the most frequent adjacent pair of tokens into a new token. Pairs are counted
/// inside <see cref="PreTokenizer"/> chunks only (and never across special tokens found in the text), each
/// occurrence weighted by how often its chunk occurs. Ties go to the pair with the smaller left id, then the
/// smaller right id, so training is deterministic.
/// <para>
/// Cost: the text is scanned once to count chunk frequencies; merges then work on the unique chunks, and
/// each merge touches only the chunks that contain the merged pair, updating pair counts incrementally
/// (a max-heap with lazy deletion picks the next pair).
/// </para>
/// </remarks>
public sealed class BytePairEncodingTrainer
{
    /// <summary>Creates a trainer with the given settings (already validated by the record).</summary>
    public BytePairEncodingTrainer(BytePairEncodingTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>The settings.</summary>
    public BytePairEncodingTrainerOptions Options { get; }

    /// <summary>Trains on one text.</summary>
    /// <exception cref="ArgumentException">The text cannot reach <see cref="BytePairEncodingTrainerOptions.VocabularySize"/> (see <see cref="Train(IEnumerable{string})"/>).</exception>
    public BytePairEncoding Train(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Train([text]);
    }

    /// <summary>Trains on a sequence of texts (documents); no chunk spans two texts.</summary>
    /// <exception cref="ArgumentException">
    /// A text is null; or the texts run out of pairs occurring <see cref="BytePairEncodingTrainerOptions.MinimumPairFrequency"/>
    /// times before the vocabulary reaches <see cref="BytePairEncodingTrainerOptions.VocabularySize"/> and
    /// <see cref="BytePairEncodingTrainerOptions.AllowSmallerVocabulary"/> is off (the message names both sizes).
    /// </exception>
    public BytePairEncoding Train(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var chunkCounts = CountChunks(texts, Options.SpecialTokens);
        var words = new WordTable(chunkCounts);
        var mergeTarget = Options.VocabularySize - BytePairEncoding.ByteTokenCount - Options.SpecialTokens.Count;
        var merges = words.LearnMerges(mergeTarget, Options.MinimumPairFrequency);
        if (merges.Count < mergeTarget && !Options.AllowSmallerVocabulary)
        {
            var reachable = Options.VocabularySize - (mergeTarget - merges.Count);
            throw new ArgumentException(
                $"The training text reaches a vocabulary of only {reachable} tokens ({merges.Count} merges of pairs occurring at least " +
                $"MinimumPairFrequency = {Options.MinimumPairFrequency} times); VocabularySize asks for {Options.VocabularySize}. " +
                "Train on more text, ask for a smaller VocabularySize, or set AllowSmallerVocabulary to accept the smaller one.", nameof(texts));
        }

        return new BytePairEncoding(merges, Options.SpecialTokens);
    }

    private static Dictionary<string, long> CountChunks(IEnumerable<string> texts, IReadOnlyList<string> specialTokens)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        var textIndex = 0;
        foreach (var text in texts)
        {
            if (text is null) throw new ArgumentException($"Text {textIndex} is null.", nameof(texts));
            var position = 0;
            foreach (var (start, specialIndex) in BytePairEncoding.FindSpecialTokens(text, specialTokens))
            {
                CountSegment(text.AsSpan(position, start - position), lookup);
                position = start + specialTokens[specialIndex].Length;
            }

            CountSegment(text.AsSpan(position), lookup);
            textIndex++;
        }

        return counts;
    }

    private static void CountSegment(ReadOnlySpan<char> segment, Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> lookup)
    {
        var position = 0;
        while (position < segment.Length)
        {
            var length = PreTokenizer.NextChunk(segment, position);
            CollectionsMarshal.GetValueRefOrAddDefault(lookup, segment.Slice(position, length), out _)++;
            position += length;
        }
    }

    /// <summary>The unique chunks as token sequences, with pair counts kept up to date as merges are applied.</summary>
    private sealed class WordTable
    {
        private readonly int[][] symbols;
        private readonly int[] lengths;
        private readonly long[] frequencies;
        private readonly int[] lastVisit;
        private readonly Dictionary<long, long> pairCounts = [];
        private readonly Dictionary<long, List<int>> wordsOfPair = [];
        private readonly Dictionary<long, long> countChanges = [];
        private readonly PriorityQueue<long, (long Count, long Pair)> queue = new(new MostFrequentFirst());

        public WordTable(Dictionary<string, long> chunkCounts)
        {
            symbols = new int[chunkCounts.Count][];
            lengths = new int[chunkCounts.Count];
            frequencies = new long[chunkCounts.Count];
            lastVisit = new int[chunkCounts.Count];
            Array.Fill(lastVisit, -1);

            // Sorted so that the word order (and with it every later step) does not depend on hashing.
            var word = 0;
            foreach (var (chunk, count) in chunkCounts.OrderBy(entry => entry.Key, StringComparer.Ordinal))
            {
                var bytes = Encoding.UTF8.GetBytes(chunk);
                symbols[word] = Array.ConvertAll(bytes, value => (int)value);
                lengths[word] = bytes.Length;
                frequencies[word] = count;
                for (var index = 0; index + 1 < bytes.Length; index++)
                {
                    var pair = BytePairEncoding.PairKey(bytes[index], bytes[index + 1]);
                    CollectionsMarshal.GetValueRefOrAddDefault(pairCounts, pair, out _) += count;
                    AddWordToPair(pair, word);
                }

                word++;
            }

            foreach (var (pair, count) in pairCounts) queue.Enqueue(pair, (count, pair));
        }

        public List<(int Left, int Right)> LearnMerges(int mergeTarget, int minimumPairFrequency)
        {
            var merges = new List<(int Left, int Right)>(mergeTarget);
            while (merges.Count < mergeTarget && queue.TryDequeue(out var pair, out var priority))
            {
                if (!pairCounts.TryGetValue(pair, out var current) || current != priority.Count) continue; // stale entry
                if (current < minimumPairFrequency) break;

                var left = (int)(pair >> 32);
                var right = (int)(uint)pair;
                var merged = BytePairEncoding.ByteTokenCount + merges.Count;
                Merge(pair, left, right, merged, merges.Count);
                merges.Add((left, right));
            }

            return merges;
        }

        private void Merge(long pair, int left, int right, int merged, int visit)
        {
            countChanges.Clear();
            foreach (var word in wordsOfPair[pair])
            {
                if (lastVisit[word] == visit) continue;
                lastVisit[word] = visit;
                var wordSymbols = symbols[word].AsSpan(0, lengths[word]);
                if (!ContainsPair(wordSymbols, left, right)) continue; // the pair has since been merged away here

                // Words are short (chunks), so re-counting a whole word is cheaper than bookkeeping per position.
                AddPairChanges(wordSymbols, -frequencies[word]);
                lengths[word] = BytePairEncoding.ReplacePair(wordSymbols, left, right, merged);
                wordSymbols = wordSymbols[..lengths[word]];
                AddPairChanges(wordSymbols, frequencies[word]);
                for (var index = 0; index + 1 < wordSymbols.Length; index++)
                {
                    if (wordSymbols[index] == merged || wordSymbols[index + 1] == merged)
                        AddWordToPair(BytePairEncoding.PairKey(wordSymbols[index], wordSymbols[index + 1]), word);
                }
            }

            // A merged pair can never form again: merges only create tokens newer than both its halves.
            wordsOfPair.Remove(pair);
            foreach (var (changed, change) in countChanges)
            {
                if (change == 0) continue;
                ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(pairCounts, changed, out _);
                count += change;
                if (count <= 0) pairCounts.Remove(changed);
                else queue.Enqueue(changed, (count, changed));
            }
        }

        private void AddPairChanges(ReadOnlySpan<int> wordSymbols, long change)
        {
            for (var index = 0; index + 1 < wordSymbols.Length; index++)
                CollectionsMarshal.GetValueRefOrAddDefault(countChanges, BytePairEncoding.PairKey(wordSymbols[index], wordSymbols[index + 1]), out _) += change;
        }

        private void AddWordToPair(long pair, int word)
        {
            ref var words = ref CollectionsMarshal.GetValueRefOrAddDefault(wordsOfPair, pair, out _);
            words ??= [];
            if (words.Count == 0 || words[^1] != word) words.Add(word);
        }

        private static bool ContainsPair(ReadOnlySpan<int> wordSymbols, int left, int right)
        {
            for (var index = 0; index + 1 < wordSymbols.Length; index++)
            {
                if (wordSymbols[index] == left && wordSymbols[index + 1] == right) return true;
            }

            return false;
        }
    }

    /// <summary>Higher count first; among equal counts the smaller pair key (left id, then right id).</summary>
    private sealed class MostFrequentFirst : IComparer<(long Count, long Pair)>
    {
        public int Compare((long Count, long Pair) x, (long Count, long Pair) y) =>
            x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Pair.CompareTo(y.Pair);
    }
}
