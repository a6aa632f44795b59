using System.Text;

namespace Pipelines.Components.Tests.Text;

/// <summary>Seeded English-like text: Zipf-distributed made-up words, punctuation, numbers and line breaks.</summary>
internal static class EnglishLikeText
{
    private static readonly string[] Common = ["the", "of", "and", "to", "in", "is", "that", "it", "for", "was", "on", "are", "as", "with", "his", "they", "at", "be", "this", "from"];

    public static string Generate(int characterCount, int seed)
    {
        var random = new Random(seed);
        const string consonants = "bcdfghjklmnprstvwz";
        const string vowels = "aeiou";
        var words = new List<string>(Common);
        while (words.Count < 3000)
        {
            var builder = new StringBuilder();
            var syllables = 1 + random.Next(4);
            for (var syllable = 0; syllable < syllables; syllable++)
            {
                builder.Append(consonants[random.Next(consonants.Length)]);
                builder.Append(vowels[random.Next(vowels.Length)]);
                if (random.Next(3) == 0) builder.Append(consonants[random.Next(consonants.Length)]);
            }

            if (random.Next(5) == 0) builder.Append(random.Next(2) == 0 ? "ing" : "ed");
            words.Add(builder.ToString());
        }

        // Zipf weights: word k is drawn with probability proportional to 1 / (k + 1).
        var cumulative = new double[words.Count];
        var total = 0.0;
        for (var index = 0; index < words.Count; index++) cumulative[index] = total += 1.0 / (index + 1);

        var text = new StringBuilder(characterCount + 64);
        var sentenceStart = true;
        while (text.Length < characterCount)
        {
            var draw = random.NextDouble() * total;
            var found = Array.BinarySearch(cumulative, draw);
            if (found < 0) found = ~found;
            var word = words[Math.Min(found, words.Count - 1)];
            if (random.Next(40) == 0) word = random.Next(2000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (sentenceStart) word = char.ToUpperInvariant(word[0]) + word[1..];
            text.Append(word);
            sentenceStart = false;
            var punctuation = random.Next(20);
            if (punctuation == 0) { text.Append(". "); sentenceStart = true; }
            else if (punctuation == 1) text.Append(", ");
            else if (punctuation == 2 && random.Next(5) == 0) { text.Append(".\n\n"); sentenceStart = true; }
            else text.Append(' ');
        }

        return text.ToString(0, characterCount);
    }
}
