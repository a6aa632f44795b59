using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipelines.Components.Serialization;

namespace Pipelines.Components.Text;

/// <content>Writing and reading the GPT-2 file pair, <c>vocab.json</c> and <c>merges.txt</c>.</content>
public sealed partial class BytePairEncoding
{
    /// <summary>File name of the vocabulary written by <see cref="SaveGpt2Files"/>.</summary>
    public const string VocabularyFileName = "vocab.json";

    /// <summary>File name of the merge list written by <see cref="SaveGpt2Files"/>.</summary>
    public const string MergesFileName = "merges.txt";

    /// <summary>First line of <c>merges.txt</c>, as GPT-2 and Hugging Face tokenizers write it.</summary>
    public const string MergesHeader = "#version: 0.2";

    /// <summary>
    /// The text of each token in the GPT-2 files: bytes and merges in <see cref="ByteLevelAlphabet"/>, special
    /// tokens as themselves. Index = token id.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// Two tokens have the same text (two merges that spell the same bytes, or a special token spelled like another
    /// token), which the GPT-2 layout cannot hold: it maps each string to a single id.
    /// </exception>
    public IReadOnlyList<string> GetGpt2TokenTexts()
    {
        var texts = new string[VocabularySize];
        var idOfText = new Dictionary<string, int>(VocabularySize, StringComparer.Ordinal);
        for (var id = 0; id < VocabularySize; id++)
        {
            texts[id] = IsSpecialToken(id) ? specialTokens[id - ByteTokenCount - merges.Length] : ByteLevelAlphabet.Encode(tokenBytes[id]);
            if (!idOfText.TryAdd(texts[id], id))
                throw new InvalidOperationException(
                    $"Tokens {idOfText[texts[id]]} and {id} are both written '{texts[id]}' in the GPT-2 layout, which maps each string to one id; "
                    + (IsSpecialToken(id) ? "rename the special token." : "two merges spell the same bytes, so this encoding has no GPT-2 form."));
        }

        return texts;
    }

    /// <summary>Writes <c>vocab.json</c>: one JSON object mapping each token's text (see <see cref="GetGpt2TokenTexts"/>) to its id, in id order.</summary>
    /// <exception cref="InvalidOperationException">Two tokens have the same text (see <see cref="GetGpt2TokenTexts"/>).</exception>
    public void WriteVocabulary(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var texts = GetGpt2TokenTexts();
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        for (var id = 0; id < texts.Count; id++) writer.WriteNumber(texts[id], id);
        writer.WriteEndObject();
    }

    /// <summary>Writes <c>merges.txt</c>: the line <see cref="MergesHeader"/>, then "left right" per merge in order, in <see cref="ByteLevelAlphabet"/>.</summary>
    /// <exception cref="InvalidOperationException">Two tokens have the same text (see <see cref="GetGpt2TokenTexts"/>).</exception>
    public void WriteMerges(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var texts = GetGpt2TokenTexts();
        using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true) { NewLine = "\n" };
        writer.WriteLine(MergesHeader);
        foreach (var (left, right) in merges) writer.WriteLine($"{texts[left]} {texts[right]}");
    }

    /// <summary>Writes <see cref="VocabularyFileName"/> and <see cref="MergesFileName"/> into <paramref name="directory"/> (created if missing, files replaced).</summary>
    /// <remarks>
    /// Microsoft.ML.Tokenizers' <see cref="Microsoft.ML.Tokenizers.BpeTokenizer"/> loads them
    /// (<see cref="Microsoft.ML.Tokenizers.BpeOptions"/> with <c>ByteLevel = true</c> and a <see cref="PreTokenizerAdapter"/>;
    /// for <see cref="EncodeWithSpecialTokens"/>, also the special tokens with their ids) and then gives the ids of
    /// <see cref="Encode"/> and the text of <see cref="Decode"/>, as tested on the whole Brown corpus, with two known
    /// exceptions: it writes a lone surrogate as the three bytes of its code point (U+D800 as ED A0 80) where this
    /// class writes U+FFFD, and its <c>Decode</c> turns each character of a special token that is in the alphabet's upper
    /// part (U+00A1..U+0143 but U+00AD) into one raw byte instead of its UTF-8.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Two tokens have the same text (see <see cref="GetGpt2TokenTexts"/>); nothing is written.</exception>
    public void SaveGpt2Files(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        GetGpt2TokenTexts();
        Directory.CreateDirectory(directory);
        using (var vocabulary = File.Create(Path.Combine(directory, VocabularyFileName))) WriteVocabulary(vocabulary);
        using var mergeList = File.Create(Path.Combine(directory, MergesFileName));
        WriteMerges(mergeList);
    }

    /// <summary>Reads the files written by <see cref="SaveGpt2Files"/> from <paramref name="directory"/>.</summary>
    /// <exception cref="InvalidDataException">See <see cref="LoadGpt2Files(Stream, Stream)"/>.</exception>
    public static BytePairEncoding LoadGpt2Files(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        using var vocabulary = File.OpenRead(Path.Combine(directory, VocabularyFileName));
        using var mergeList = File.OpenRead(Path.Combine(directory, MergesFileName));
        return LoadGpt2Files(vocabulary, mergeList);
    }

    /// <summary>Reads a <c>vocab.json</c> and <c>merges.txt</c> pair in the layout of <see cref="WriteVocabulary"/> and <see cref="WriteMerges"/>.</summary>
    /// <remarks>
    /// The layout is this class's: ids 0-255 are the bytes in byte order, merge <c>i</c> makes id 256 + i, and every id
    /// after the merges is a special token. Other GPT-2 vocabularies (OpenAI's own numbers its bytes differently) are refused.
    /// </remarks>
    /// <exception cref="InvalidDataException">The files are malformed or do not follow that layout (the message says where).</exception>
    public static BytePairEncoding LoadGpt2Files(Stream vocabulary, Stream mergeList)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(mergeList);
        var texts = ReadVocabulary(vocabulary);
        var idOfText = new Dictionary<string, int>(texts.Length, StringComparer.Ordinal);
        for (var id = 0; id < texts.Length; id++) idOfText[texts[id]] = id;
        for (var value = 0; value < ByteTokenCount; value++)
        {
            var expected = ByteLevelAlphabet.Encode([(byte)value]);
            if (TextAt(value) != expected)
                throw new InvalidDataException($"vocab.json gives id {value} to '{TextAt(value)}'; this layout needs byte {value}, '{expected}', there.");
        }

        var pairs = ReadMerges(mergeList, idOfText);
        for (var index = 0; index < pairs.Count; index++)
        {
            var made = ByteTokenCount + index;
            var text = texts[pairs[index].Left] + texts[pairs[index].Right];
            if (made >= texts.Length || texts[made] != text)
                throw new InvalidDataException($"Merge {index} makes '{text}', but vocab.json has {(made < texts.Length ? $"'{texts[made]}'" : "no token")} at id {made}.");
        }

        try
        {
            return new BytePairEncoding(pairs, texts[(ByteTokenCount + pairs.Count)..]);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidDataException($"The GPT-2 files are invalid: {exception.Message}", exception);
        }

        string TextAt(int id) => id < texts.Length ? texts[id] : "(missing)";
    }

    /// <summary>The token texts of a vocab.json, indexed by id; ids must be 0..n-1, each once.</summary>
    private static string[] ReadVocabulary(Stream stream)
    {
        var document = JsonInput.Parse(stream, "vocab.json");

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"vocab.json must be a JSON object, not {root.ValueKind}.");
            var entries = root.EnumerateObject().ToArray();
            var texts = new string?[entries.Length];
            foreach (var entry in entries)
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id))
                    throw new InvalidDataException($"vocab.json gives '{entry.Name}' the value {entry.Value.GetRawText()}, not an integer id.");
                if ((uint)id >= (uint)entries.Length)
                    throw new InvalidDataException($"vocab.json gives '{entry.Name}' the id {id}; with {entries.Length} entries the ids must be 0 to {entries.Length - 1}.");
                if (texts[id] is not null) throw new InvalidDataException($"vocab.json gives id {id} to both '{texts[id]}' and '{entry.Name}'.");
                texts[id] = entry.Name;
            }

            return texts!;
        }
    }

    /// <summary>The merges of a merges.txt as id pairs: an optional "#version" first line, then "left right" lines.</summary>
    private static List<(int Left, int Right)> ReadMerges(Stream stream, Dictionary<string, int> idOfText)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var pairs = new List<(int Left, int Right)>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            if (line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"merges.txt line {lineNumber}, '{line}', is not two tokens separated by one space.");
            if (!idOfText.TryGetValue(parts[0], out var left) || !idOfText.TryGetValue(parts[1], out var right))
                throw new InvalidDataException($"merges.txt line {lineNumber}, '{line}', names a token that vocab.json lacks.");
            pairs.Add((left, right));
        }

        return pairs;
    }
}
