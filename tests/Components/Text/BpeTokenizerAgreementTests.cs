using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Text;
using Pipelines.Tests.Support;

namespace Pipelines.Components.Tests.Text;

/// <summary>
/// Holds Microsoft.ML.Tokenizers' byte-level <c>BpeTokenizer</c>, loaded from our GPT-2 files with our pre-tokenizer,
/// against <see cref="BytePairEncoding"/>: the same ids and the same decoded text, on the whole Brown corpus and on
/// odd Unicode, except for the differences asserted by name below.
/// </summary>
[TestClass]
public sealed class BpeTokenizerAgreementTests
{
    private const string EndOfText = "<|endoftext|>";

    /// <summary>Multi-byte text added to the training text so that merges also build UTF-8 sequences of CJK, emoji and accents.</summary>
    private const string UnicodeSample = " 日本語のテキスト 中文 😀😀 👍🏽 café naïve Ωμέγα שלום مرحبا 한국어\n";

    /// <summary>Vocabulary of 2,048 trained on the first ~1 MB of Brown's training documents, plus <see cref="UnicodeSample"/>.</summary>
    private static readonly Lazy<BpeTokenizerPair> Brown = new(() =>
    {
        var documents = Documents("train.txt");
        var training = new List<string>();
        var characters = 0;
        foreach (var document in documents.TakeWhile(_ => characters < 1_000_000))
        {
            training.Add(document);
            characters += document.Length;
        }

        training.AddRange(Enumerable.Repeat(UnicodeSample, 50));
        var options = new BytePairEncodingTrainerOptions { VocabularySize = 2048, SpecialTokens = [EndOfText] };
        return BpeTokenizerPair.Load(new BytePairEncodingTrainer(options).Train(training));
    });

    private static string[] Documents(string fileName) =>
        File.ReadAllText(RepositoryRoot.Combine("samples", "data", "brown", fileName)).TrimEnd('\n').Split("\n\n");

    public TestContext TestContext { get; set; } = null!;

    // Built in code rather than in [DataRow]s: MSTest's test-data serialization turns lone surrogates into U+FFFD.
    private static readonly (string Name, string Text)[] OddTexts =
    [
        ("empty", ""),
        ("ASCII with contractions", "Hello, world! It's 2024; they'll've gone. 'RE 'Tis"),
        ("combining marks", "e\u0301 cafe\u0301 a\u0308\u0304 \u0915\u093f\u0928\u094d\u0928 Z\u0351\u0352\u0357 \u0301x"),
        ("emoji, modifiers and ZWJ sequences", "😀😀😀 👍🏽 👨\u200d👩\u200d👧\u200d👦 🏳\ufe0f\u200d🌈 🇫🇷 1\ufe0f\u20e3"),
        ("CJK, including supplementary planes", "日本語のテキスト、中文字符。한국어 𠀀𪛖"),
        ("right-to-left text and bidi controls", "שלום עולם مرحبا بالعالم \u200f\u202eabc\u202c \u0661\u0662\u0663"),
        ("control characters", "\0\u0001\t\r\n\u001b[0m\u007f\u0085\u2028\u2029\u000b\u000c"),
        ("odd spaces, BOM, noncharacters", "a\u00a0b\u3000c\u2003 \ufeffd\uffff\ufffd\ufdd0"),
        ("special-token text", "a<|endoftext|>b<|endoftext|><|endoftext|> <|endof<|endoftext|>text|>"),
        ("special-token text alone", "<|endoftext|>"),
        ("whitespace runs", "   \n\n\t  x  \r\n\r\n   "),
        ("long letters", new string('a', 5_000)),
        ("long punctuation", new string('.', 3_001)),
        ("long digits", string.Concat(Enumerable.Repeat("1234567890", 300))),
        ("long emoji", string.Concat(Enumerable.Repeat("😀", 1_000))),
        ("long emoji after one char (cut between pairs)", "!" + string.Concat(Enumerable.Repeat("😀", 300))),
        ("long CJK", string.Concat(Enumerable.Repeat("日本語", 700))),
        ("long combining", string.Concat(Enumerable.Repeat("e\u0301", 400))),
        ("long word", string.Concat(Enumerable.Repeat("the", 2_000))),
        ("long spaces", new string(' ', 1_000) + "x"),
    ];

    private static readonly string[] Fragments =
    [
        "a", "Z", "the", " of", "  ", " ", "\t", "\n", "\r\n", "'s", "'", "0", "42", ".", ",!?", "-", "é", "e\u0301",
        "日本", "語", "😀", "👍🏽", "\u200d", "Ω", "ש", "\u00a0", "\u3000", EndOfText, "<|", "\0", "\uffff",
    ];

    [TestMethod]
    public void AgreesOnOddText()
    {
        foreach (var (name, text) in OddTexts) Assert.IsNull(Brown.Value.Difference(text), name);
    }

    [TestMethod]
    public void AgreesOnRandomMixturesOfWellFormedText() =>
        Check.One(
            Config.QuickThrowOnFailure.WithMaxTest(300),
            Prop.ForAll(Gen.Elements(Fragments).ListOf().Select(parts => string.Concat(parts)).ToArbitrary(), text => Brown.Value.Difference(text) is null));

    [TestMethod]
    public void LoneSurrogatesAreEncodedDifferently()
    {
        // Known difference: ML.Tokenizers writes a lone surrogate as the three bytes its code point would have
        // in UTF-8 (U+D800 -> ED A0 80), which no UTF-8 decoder accepts; we follow Encoding.UTF8 and write
        // U+FFFD (EF BF BD), so that Decode gives back well-formed text. With them replaced by U+FFFD, both agree.
        var pair = Brown.Value;
        foreach (var (text, surrogateBytes) in new[] { ("\ud800", "ED-A0-80"), ("a\udc00b", "ED-B0-80"), ("x \ud83d", "ED-A0-BD") })
        {
            var theirs = pair.Plain.EncodeToIds(text).ToArray();
            CollectionAssert.AreNotEqual(pair.Ours.Encode(text), theirs);
            StringAssert.Contains(Convert.ToHexString(TokenBytes(pair.Ours, theirs)), surrogateBytes.Replace("-", ""));
            StringAssert.Contains(Convert.ToHexString(TokenBytes(pair.Ours, pair.Ours.Encode(text))), "EFBFBD");
            Assert.IsNull(pair.Difference(text.Replace(text.First(char.IsSurrogate), '\ufffd')));
        }
    }

    [TestMethod]
    [DataRow("<|日本|>", DisplayName = "CJK")]
    [DataRow("<pad 1>", DisplayName = "space")]
    [DataRow("[SEP]", DisplayName = "ASCII")]
    public void AgreesOnSpecialTokensOutsideTheUpperByteAlphabet(string special) =>
        Assert.IsNull(WithSpecialToken(special).Difference($"x{special}y {special}"));

    [TestMethod]
    [DataRow("<|café|>", "<|caf\ufffd|>", DisplayName = "Latin-1 letter, written as the byte E9")]
    [DataRow("<|Āb|>", "<|\0b|>", DisplayName = "U+0100, written as the byte 00")]
    public void SpecialTokensWithUpperByteAlphabetCharactersDecodeDifferently(string special, string theirDecoding)
    {
        // Known difference: ML.Tokenizers' byte-level Decode reads a special token's text through the byte-level
        // alphabet too, so each of its characters U+00A1..U+00FF (but U+00AD) and U+0100..U+0143 becomes one raw
        // byte instead of its UTF-8. Their ids agree with ours; only the decoded text differs.
        var pair = WithSpecialToken(special);
        var ids = pair.Ours.EncodeWithSpecialTokens(special);
        CollectionAssert.AreEqual(ids, pair.WithSpecialTokens.EncodeToIds(special).ToArray());
        Assert.AreEqual(special, pair.Ours.Decode(ids));
        Assert.AreEqual(theirDecoding, pair.WithSpecialTokens.Decode(ids));
    }

    private static BpeTokenizerPair WithSpecialToken(string special) =>
        BpeTokenizerPair.Load(new BytePairEncodingTrainer(new BytePairEncodingTrainerOptions { VocabularySize = 400, SpecialTokens = [special] })
            .Train(EnglishLikeText.Generate(20_000, seed: 4)));

    private static byte[] TokenBytes(BytePairEncoding encoding, IEnumerable<int> tokens) =>
        [.. tokens.SelectMany(token => encoding.GetTokenBytes(token).ToArray())];

    [TestMethod]
    public void AgreesOnABrownSample()
    {
        foreach (var document in Documents("validation.txt").Take(20)) Assert.IsNull(Brown.Value.Difference(document));
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void AgreesOnTheWholeBrownCorpus()
    {
        var stopwatch = Stopwatch.StartNew();
        int documentCount = 0, lineCount = 0;
        long tokenCount = 0;
        var differences = new List<string>();
        foreach (var fileName in new[] { "train.txt", "validation.txt" })
        {
            var documents = Documents(fileName);
            var lines = documents.SelectMany(document => document.Split('\n')).ToArray();
            documentCount += documents.Length;
            lineCount += lines.Length;
            foreach (var piece in documents.Concat(lines))
            {
                tokenCount += Brown.Value.Ours.Encode(piece).Length + Brown.Value.Ours.EncodeWithSpecialTokens(piece).Length;
                if (Brown.Value.Difference(piece) is { } difference) differences.Add(difference);
            }
        }

        TestContext.WriteLine($"{documentCount} documents and {lineCount} lines, {tokenCount} ids (with and without special-token parsing) compared in {stopwatch.Elapsed.TotalSeconds:F1} s; {differences.Count} differ.");
        Assert.IsEmpty(differences, string.Join("\n", differences.Take(5)));
        Assert.IsGreaterThan(400, documentCount);
    }
}
