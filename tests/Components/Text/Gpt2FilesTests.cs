using System.Text;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Text;

namespace Pipelines.Components.Tests.Text;

[TestClass]
public sealed class Gpt2FilesTests
{
    private const string EndOfText = "<|endoftext|>";

    private static readonly Lazy<BytePairEncoding> Trained = new(() =>
        new BytePairEncodingTrainer(new BytePairEncodingTrainerOptions { VocabularySize = 700, SpecialTokens = [EndOfText, "<pad 1>"] })
            .Train(EnglishLikeText.Generate(40_000, seed: 5) + string.Concat(Enumerable.Repeat(" 日本語 😀😀 café\n", 40))));

    private static (string Vocabulary, string Merges) Write(BytePairEncoding encoding)
    {
        using var vocabulary = new MemoryStream();
        using var merges = new MemoryStream();
        encoding.WriteVocabulary(vocabulary);
        encoding.WriteMerges(merges);
        return (Encoding.UTF8.GetString(vocabulary.ToArray()), Encoding.UTF8.GetString(merges.ToArray()));
    }

    private static BytePairEncoding Read(string vocabulary, string merges) =>
        BytePairEncoding.LoadGpt2Files(new MemoryStream(Encoding.UTF8.GetBytes(vocabulary)), new MemoryStream(Encoding.UTF8.GetBytes(merges)));

    [TestMethod]
    public void FilesFollowTheGpt2Layout()
    {
        var encoding = Trained.Value;
        var (vocabulary, merges) = Write(encoding);
        var entries = JsonSerializer.Deserialize<Dictionary<string, int>>(vocabulary)!;
        Assert.HasCount(encoding.VocabularySize, entries);
        Assert.AreEqual(32, entries["Ġ"], "space is byte 32, written Ġ");
        Assert.AreEqual(10, entries["Ċ"], "newline is byte 10, written Ċ");
        Assert.AreEqual((int)'a', entries["a"]);
        Assert.AreEqual(encoding.GetSpecialTokenId(EndOfText), entries[EndOfText]);
        Assert.AreEqual(encoding.VocabularySize - 1, entries["<pad 1>"], "special tokens keep their own text, space included");
        Assert.AreEqual(" the", Encoding.UTF8.GetString(encoding.GetTokenBytes(entries["Ġthe"])));

        var lines = merges.Split('\n');
        Assert.AreEqual(BytePairEncoding.MergesHeader, lines[0]);
        Assert.HasCount(encoding.Merges.Count + 2, lines, "header, one line per merge, and the final newline");
        Assert.AreEqual("", lines[^1]);
        var (left, right) = encoding.Merges[0];
        Assert.AreEqual($"{ByteLevelAlphabet.Encode(encoding.GetTokenBytes(left))} {ByteLevelAlphabet.Encode(encoding.GetTokenBytes(right))}", lines[1]);
    }

    [TestMethod]
    public void SavedFilesLoadBackIdentically()
    {
        var encoding = Trained.Value;
        var directory = Directory.CreateTempSubdirectory("bpe-gpt2-").FullName;
        try
        {
            encoding.SaveGpt2Files(directory);
            var loaded = BytePairEncoding.LoadGpt2Files(directory);
            CollectionAssert.AreEqual(encoding.Merges.ToArray(), loaded.Merges.ToArray());
            CollectionAssert.AreEqual(encoding.SpecialTokens.ToArray(), loaded.SpecialTokens.ToArray());
            var text = EnglishLikeText.Generate(3_000, seed: 9) + EndOfText + " 日本語😀";
            CollectionAssert.AreEqual(encoding.EncodeWithSpecialTokens(text), loaded.EncodeWithSpecialTokens(text));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void AnEncodingWithoutMergesRoundTrips()
    {
        var encoding = new BytePairEncoding([], []);
        var (vocabulary, merges) = Write(encoding);
        Assert.AreEqual(BytePairEncoding.MergesHeader + "\n", merges);
        var loaded = Read(vocabulary, merges);
        Assert.AreEqual(256, loaded.VocabularySize);
    }

    [TestMethod]
    public void TwoMergesSpellingTheSameBytesAreRefused()
    {
        // "abc" made twice: as (ab, c) = 258 and as (a, bc) = 260.
        var encoding = new BytePairEncoding([('a', 'b'), (256, 'c'), ('b', 'c'), ('a', 258)], []);
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => encoding.WriteVocabulary(new MemoryStream()));
        StringAssert.Contains(exception.Message, "Tokens 257 and 259 are both written 'abc'");
        var directory = Path.Combine(Path.GetTempPath(), $"bpe-gpt2-{Guid.NewGuid():N}");
        Assert.ThrowsExactly<InvalidOperationException>(() => encoding.SaveGpt2Files(directory));
        Assert.IsFalse(Directory.Exists(directory), "nothing is written");
    }

    [TestMethod]
    [DataRow("a")]
    [DataRow("Ġ")]
    public void ASpecialTokenSpelledLikeAnotherTokenIsRefused(string special)
    {
        var encoding = new BytePairEncoding([], [special]);
        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => encoding.WriteMerges(new MemoryStream()));
        StringAssert.Contains(exception.Message, "rename the special token");
    }

    [TestMethod]
    [DataRow("not json", "#version: 0.2\n", "not valid JSON")]
    [DataRow("[]", "#version: 0.2\n", "must be a JSON object")]
    [DataRow("""{"a":"x"}""", "", "not an integer id")]
    [DataRow("""{"a":5}""", "", "the ids must be 0 to 0")]
    [DataRow("""{"a":0,"b":0}""", "", "gives id 0 to both")]
    [DataRow("""{"a":0}""", "", "this layout needs byte 0")]
    public void MalformedVocabulariesAreRefused(string vocabulary, string merges, string expectedMessage)
    {
        var exception = Assert.ThrowsExactly<InvalidDataException>(() => Read(vocabulary, merges));
        StringAssert.Contains(exception.Message, expectedMessage);
    }

    [TestMethod]
    [DataRow("#version: 0.2\na b c\n", "is not two tokens")]
    [DataRow("#version: 0.2\nxy c\n", "names a token that vocab.json lacks")]
    [DataRow("#version: 0.2\nb a\n", "Merge 0 makes 'ba'")]
    [DataRow("#version: 0.2\na b\na b\n", "Merge 1 makes 'ab'")]
    public void MergesThatDoNotMatchTheVocabularyAreRefused(string merges, string expectedMessage)
    {
        var (vocabulary, _) = Write(new BytePairEncoding([('a', 'b')], []));
        var exception = Assert.ThrowsExactly<InvalidDataException>(() => Read(vocabulary, merges));
        StringAssert.Contains(exception.Message, expectedMessage);
    }

    [TestMethod]
    public void AMergeOfALaterTokenIsRefused()
    {
        // Ids 256 and 257 swapped: "abc" (256) would be made from "ab" (257), a token that does not exist yet.
        var (vocabulary, _) = Write(new BytePairEncoding([('a', 'b'), (256, 'c')], []));
        var entries = JsonSerializer.Deserialize<Dictionary<string, int>>(vocabulary)!;
        (entries["ab"], entries["abc"]) = (entries["abc"], entries["ab"]);
        var exception = Assert.ThrowsExactly<InvalidDataException>(() => Read(JsonSerializer.Serialize(entries), "#version: 0.2\nab c\na b\n"));
        StringAssert.Contains(exception.Message, "Merge 0 (257, 99) must join tokens below 256");
    }
}
