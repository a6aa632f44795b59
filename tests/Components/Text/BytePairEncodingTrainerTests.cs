using System.Diagnostics;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Text;

namespace Pipelines.Components.Tests.Text;

[TestClass]
public sealed class BytePairEncodingTrainerTests
{
    private static BytePairEncoding Train(string text, int vocabularySize, int minimumPairFrequency = 2, params string[] specialTokens) =>
        new BytePairEncodingTrainer(new BytePairEncodingTrainerOptions
        {
            VocabularySize = vocabularySize,
            MinimumPairFrequency = minimumPairFrequency,
            SpecialTokens = specialTokens,
            AllowSmallerVocabulary = true,
        }).Train(text);

    [TestMethod]
    public void MergesTheMostFrequentPairFirst()
    {
        // The textbook example: aa (4 overlapping occurrences) -> Z; then ZaZa... ab and Za tie at 2 and the
        // smaller left id (a = 97 < Z = 256) wins -> Y; then ZY -> X; then every pair occurs once and training stops.
        var encoding = Train("aaabdaaabac", vocabularySize: 1000);
        CollectionAssert.AreEqual(new[] { (97, 97), (97, 98), (256, 257) }, encoding.Merges.ToArray());
        Assert.AreEqual(259, encoding.VocabularySize);
        CollectionAssert.AreEqual(new[] { 258, 100, 258, 97, 99 }, encoding.Encode("aaabdaaabac"));
    }

    [TestMethod]
    public void TooLittleTextForTheVocabularyIsRefusedNamingBothSizes()
    {
        var options = new BytePairEncodingTrainerOptions { VocabularySize = 1000, SpecialTokens = ["<|endoftext|>"] };

        var exception = Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncodingTrainer(options).Train("aaabdaaabac"));

        Assert.AreEqual("texts", exception.ParamName);
        StringAssert.Contains(exception.Message, "reaches a vocabulary of only 260 tokens (3 merges");
        StringAssert.Contains(exception.Message, "VocabularySize asks for 1000");
        StringAssert.Contains(exception.Message, "AllowSmallerVocabulary");

        var smaller = new BytePairEncodingTrainer(options with { AllowSmallerVocabulary = true }).Train("aaabdaaabac");
        Assert.AreEqual(260, smaller.VocabularySize, "allowed on purpose: the bytes, 3 merges and the special token");
        Assert.AreEqual(260, new BytePairEncodingTrainer(options with { VocabularySize = 260 }).Train("aaabdaaabac").VocabularySize,
            "exactly the reachable size is not refused");
    }

    [TestMethod]
    public void TiesGoToTheSmallerPair()
    {
        var encoding = Train("dcba", vocabularySize: 257, minimumPairFrequency: 1);
        CollectionAssert.AreEqual(new[] { ((int)'b', (int)'a') }, encoding.Merges.ToArray());
    }

    [TestMethod]
    public void TrainingIsDeterministicAndIgnoresDocumentOrder()
    {
        var documents = Enumerable.Range(0, 40).Select(seed => EnglishLikeText.Generate(2_000, seed)).ToArray();
        var options = new BytePairEncodingTrainerOptions { VocabularySize = 600 };
        var first = new BytePairEncodingTrainer(options).Train(documents);
        var second = new BytePairEncodingTrainer(options).Train(documents.Reverse());
        CollectionAssert.AreEqual(first.Merges.ToArray(), second.Merges.ToArray());
    }

    [TestMethod]
    public void ReachesTheRequestedVocabularyWithSpecialTokensLast()
    {
        var encoding = Train(EnglishLikeText.Generate(100_000, seed: 1), vocabularySize: 700, specialTokens: ["<|endoftext|>", "<|pad|>"]);
        Assert.AreEqual(700, encoding.VocabularySize);
        Assert.AreEqual(698 - 256, encoding.Merges.Count);
        Assert.AreEqual(698, encoding.GetSpecialTokenId("<|endoftext|>"));
        Assert.AreEqual(699, encoding.GetSpecialTokenId("<|pad|>"));
        Assert.IsTrue(encoding.IsSpecialToken(699));
        Assert.IsFalse(encoding.IsSpecialToken(697));
    }

    [TestMethod]
    public void MergesNeverCrossChunks()
    {
        // 'b' is always followed by a space, which starts the next chunk, so no token may hold "b ".
        var encoding = Train(string.Join(" ", Enumerable.Repeat("ab", 200)), vocabularySize: 300, minimumPairFrequency: 1);
        Assert.IsNotEmpty(encoding.Merges);
        for (var id = BytePairEncoding.ByteTokenCount; id < encoding.VocabularySize; id++)
            Assert.IsFalse(Encoding.UTF8.GetString(encoding.GetTokenBytes(id)).Contains("b ", StringComparison.Ordinal), $"token {id}");
    }

    [TestMethod]
    public void SpecialTokensInTheTrainingTextAreNotLearned()
    {
        var text = string.Join("<|endoftext|>", Enumerable.Range(0, 300).Select(seed => EnglishLikeText.Generate(200, seed)));
        var encoding = Train(text, vocabularySize: 800, specialTokens: ["<|endoftext|>"]);
        for (var id = BytePairEncoding.ByteTokenCount; id < encoding.VocabularySize - 1; id++)
        {
            var tokenText = Encoding.UTF8.GetString(encoding.GetTokenBytes(id));
            Assert.IsFalse(tokenText.Contains('<') || tokenText.Contains('|'), $"token {id} '{tokenText}'");
        }
    }

    [TestMethod]
    public void StopsWhenNoPairIsFrequentEnough()
    {
        var encoding = Train("abcabc xyz", vocabularySize: 2048, minimumPairFrequency: 2);
        // Only "abcabc" has repeated pairs: ab (2), then [ab]c (2); then [abc][abc] occurs once.
        CollectionAssert.AreEqual(new[] { (97, 98), (256, 99) }, encoding.Merges.ToArray());
    }

    [TestMethod]
    public void TrainsAHalfMegabyteQuickly()
    {
        var text = EnglishLikeText.Generate(500_000, seed: 7);
        var stopwatch = Stopwatch.StartNew();
        var encoding = Train(text, vocabularySize: 2048);
        stopwatch.Stop();
        Assert.AreEqual(2048, encoding.VocabularySize);
        // About 0.1 s on one core; the bound only catches a quadratic regression.
        Assert.IsLessThan(15.0, stopwatch.Elapsed.TotalSeconds);
        var tokens = encoding.Encode(text);
        Assert.IsGreaterThan(3.0, (double)text.Length / tokens.Length, "characters per token");
        Assert.AreEqual(text, encoding.Decode(tokens));
    }

    [TestMethod]
    public void RejectsBadOptions()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BytePairEncodingTrainerOptions { VocabularySize = 255 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BytePairEncodingTrainerOptions { VocabularySize = BytePairEncodingTrainerOptions.MaximumVocabularySize + 1 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BytePairEncodingTrainerOptions { MinimumPairFrequency = 0 });
        Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncodingTrainerOptions { SpecialTokens = ["<a>", "<a>"] });
        Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncodingTrainerOptions { SpecialTokens = [""] });
        Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncodingTrainerOptions { SpecialTokens = ["\ud800"] });
        Assert.ThrowsExactly<ArgumentNullException>(() => new BytePairEncodingTrainerOptions { SpecialTokens = null! });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BytePairEncodingTrainerOptions { VocabularySize = 257, SpecialTokens = ["<a>", "<b>"] });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BytePairEncodingTrainerOptions { SpecialTokens = ["<a>", "<b>"], VocabularySize = 257 });
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BytePairEncodingTrainerOptions { VocabularySize = 100 });
        Assert.AreEqual(nameof(BytePairEncodingTrainerOptions.VocabularySize), exception.ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncodingTrainer(new BytePairEncodingTrainerOptions()).Train(["ok", null!]));
    }
}
