using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Text;

namespace Pipelines.Components.Tests.Text;

[TestClass]
public sealed class BytePairEncodingTests
{
    private const string EndOfText = "<|endoftext|>";

    // Training text mixing English-like words with accents, CJK, emoji and digits, so that merges build
    // multi-byte tokens, including tokens that end inside a UTF-8 sequence.
    private static readonly Lazy<BytePairEncoding> Trained = new(() =>
    {
        var text = EnglishLikeText.Generate(60_000, seed: 11)
            + string.Concat(Enumerable.Repeat(" 日本語のテキスト 😀😀 👍🏽 café naïve Ωμέγα 12345", 50));
        return new BytePairEncodingTrainer(new BytePairEncodingTrainerOptions { VocabularySize = 900, SpecialTokens = [EndOfText] }).Train(text);
    });

    private static readonly string[] Fragments =
    [
        "a", "Z", "the", " of", "  ", " ", "\t", "\n", "\r\n", "'s", "'", "0", "42", ".", ",!?", "-", "é", "e\u0301",
        "日本", "語", "😀", "👍🏽", "Ω", "\u00a0", "\u3000", "\ud800", "\udc00", "\udbff", EndOfText, "<|", "\0", "\uffff",
    ];

    private static Arbitrary<string> MixedStrings() =>
        Gen.Elements(Fragments).ListOf().Select(parts => string.Concat(parts)).ToArbitrary();

    private static string WithoutLoneSurrogates(string text) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));

    private static void CheckProperty(Property property) =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(400), property);

    [TestMethod]
    public void RoundTripsWellFormedText() =>
        CheckProperty(Prop.ForAll(MixedStrings().Filter(text => WithoutLoneSurrogates(text) == text), text =>
            Trained.Value.Decode(Trained.Value.Encode(text)) == text));

    [TestMethod]
    public void LoneSurrogatesBecomeTheReplacementCharacter() =>
        CheckProperty(Prop.ForAll(MixedStrings(), text =>
            Trained.Value.Decode(Trained.Value.Encode(text)) == WithoutLoneSurrogates(text)));

    [TestMethod]
    public void RoundTripsArbitraryStrings() =>
        CheckProperty(Prop.ForAll(ArbMap.Default.ArbFor<string>().Filter(text => text is not null), text =>
            Trained.Value.Decode(Trained.Value.Encode(text)) == WithoutLoneSurrogates(text)));

    [TestMethod]
    public void RoundTripsWithSpecialTokens() =>
        CheckProperty(Prop.ForAll(MixedStrings(), text =>
            Trained.Value.Decode(Trained.Value.EncodeWithSpecialTokens(text)) == WithoutLoneSurrogates(text)));

    [TestMethod]
    public void TheCacheDoesNotChangeTheResult() =>
        CheckProperty(Prop.ForAll(MixedStrings(), text =>
        {
            var fresh = new BytePairEncoding(Trained.Value.Merges, Trained.Value.SpecialTokens);
            return fresh.Encode(text).SequenceEqual(Trained.Value.Encode(text)) && fresh.Encode(text).SequenceEqual(Trained.Value.Encode(text));
        }));

    [TestMethod]
    public void EncodingIsTheConcatenationOfChunkEncodings() =>
        CheckProperty(Prop.ForAll(MixedStrings(), text =>
            Trained.Value.Encode(text).SequenceEqual(PreTokenizer.Split(text).SelectMany(Trained.Value.Encode))));

    [TestMethod]
    public void EmptyTextHasNoTokens()
    {
        Assert.IsEmpty(Trained.Value.Encode(""));
        Assert.AreEqual("", Trained.Value.Decode([]));
    }

    [TestMethod]
    public void SpecialTokensAreRecognisedOnlyWhenAsked()
    {
        var encoding = Trained.Value;
        var endOfText = encoding.GetSpecialTokenId(EndOfText);
        var text = "one<|endoftext|>two<|endoftext|>";
        var withSpecials = encoding.EncodeWithSpecialTokens(text);
        Assert.AreEqual(2, withSpecials.Count(token => token == endOfText));
        Assert.AreEqual(endOfText, withSpecials[^1]);
        Assert.DoesNotContain(endOfText, encoding.Encode(text));
        Assert.AreEqual(text, encoding.Decode(encoding.Encode(text)));
        Assert.IsFalse(encoding.TryGetSpecialTokenId("<|pad|>", out _));
        Assert.ThrowsExactly<KeyNotFoundException>(() => encoding.GetSpecialTokenId("<|pad|>"));
    }

    [TestMethod]
    public void EncodeWithSpecialTokensPrefersTheLongestAtOnePlace()
    {
        var encoding = new BytePairEncoding([], ["<a>", "<a><b>"]);
        CollectionAssert.AreEqual(new[] { 257, (int)'x', 256 }, encoding.EncodeWithSpecialTokens("<a><b>x<a>"));
    }

    [TestMethod]
    public void DecodeRejectsUnknownIds()
    {
        var encoding = Trained.Value;
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => encoding.Decode([1, encoding.VocabularySize]));
        StringAssert.Contains(exception.Message, "tokens[1]");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => encoding.Decode([-1]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => encoding.GetTokenBytes(encoding.VocabularySize));
    }

    [TestMethod]
    public void ConstructorRejectsInvalidMerges()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncoding([(256, 1)], []));
        Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncoding([(1, 2), (1, 2)], []));
        Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncoding([(-1, 2)], []));
        Assert.ThrowsExactly<ArgumentException>(() => new BytePairEncoding([], ["x", "x"]));
    }

    [TestMethod]
    public void JsonRoundTripKeepsEverything()
    {
        var encoding = Trained.Value;
        var json = encoding.ToJson();
        StringAssert.StartsWith(json, "{\"format\":\"Pipelines.BytePairEncoding\",\"version\":1,");
        var loaded = BytePairEncoding.FromJson(json);
        CollectionAssert.AreEqual(encoding.Merges.ToArray(), loaded.Merges.ToArray());
        CollectionAssert.AreEqual(encoding.SpecialTokens.ToArray(), loaded.SpecialTokens.ToArray());
        var text = EnglishLikeText.Generate(5_000, seed: 2) + EndOfText + "😀";
        CollectionAssert.AreEqual(encoding.EncodeWithSpecialTokens(text), loaded.EncodeWithSpecialTokens(text));

        var path = Path.Combine(Path.GetTempPath(), $"bpe-{Guid.NewGuid():N}.json");
        try
        {
            encoding.Save(path);
            CollectionAssert.AreEqual(encoding.Merges.ToArray(), BytePairEncoding.Load(path).Merges.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    [DataRow("not json")]
    [DataRow("[1, 2]")]
    [DataRow("""{"version":1,"merges":[],"specialTokens":[]}""")]
    [DataRow("""{"format":"other","version":1,"merges":[],"specialTokens":[]}""")]
    [DataRow("""{"format":"Pipelines.BytePairEncoding","version":2,"merges":[],"specialTokens":[]}""")]
    [DataRow("""{"format":"Pipelines.BytePairEncoding","version":1,"preTokenizer":"other","merges":[],"specialTokens":[]}""")]
    [DataRow("""{"format":"Pipelines.BytePairEncoding","version":1,"merges":[[300,1]],"specialTokens":[]}""")]
    [DataRow("""{"format":"Pipelines.BytePairEncoding","version":1,"merges":[[1]],"specialTokens":[]}""")]
    [DataRow("""{"format":"Pipelines.BytePairEncoding","version":1,"merges":[[1,2.5]],"specialTokens":[]}""")]
    [DataRow("""{"format":"Pipelines.BytePairEncoding","version":1,"merges":[],"specialTokens":[3]}""")]
    [DataRow("""{"format":"Pipelines.BytePairEncoding","version":1,"merges":[],"specialTokens":["a","a"]}""")]
    [DataRow("""{"format":"Pipelines.BytePairEncoding","version":1,"merges":{},"specialTokens":[]}""")]
    public void LoadRejectsInvalidFiles(string json) =>
        Assert.ThrowsExactly<InvalidDataException>(() => BytePairEncoding.FromJson(json));
}
