namespace Pipelines.Components.Text;

/// <summary>
/// GPT-2's byte-level alphabet: each of the 256 bytes as one printable character, so that any token's bytes can be
/// written as text in <c>vocab.json</c> and <c>merges.txt</c> (Radford et al. 2019, the GPT-2 encoder).
/// </summary>
/// <remarks>
/// The printable bytes <c>!</c>..<c>~</c>, <c>¡</c>..<c>¬</c> and <c>®</c>..<c>ÿ</c> stand for themselves; the other 68
/// bytes, in order, become the characters U+0100, U+0101, ... The map is a bijection.
/// </remarks>
public static class ByteLevelAlphabet
{
    private static readonly char[] CharacterOfByte = CreateTable();
    private static readonly Dictionary<char, byte> ByteOfCharacter =
        Enumerable.Range(0, 256).ToDictionary(value => CharacterOfByte[value], value => (byte)value);

    /// <summary>The text of <paramref name="bytes"/>, one character per byte.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var characters = new char[bytes.Length];
        for (var index = 0; index < bytes.Length; index++) characters[index] = CharacterOfByte[bytes[index]];
        return new string(characters);
    }

    /// <summary>The bytes of <paramref name="text"/> written by <see cref="Encode"/>.</summary>
    /// <exception cref="ArgumentException">A character is not in the alphabet (the message gives it and its position).</exception>
    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = new byte[text.Length];
        for (var index = 0; index < text.Length; index++)
            bytes[index] = ByteOfCharacter.TryGetValue(text[index], out var value)
                ? value
                : throw new ArgumentException($"Character U+{(int)text[index]:X4} at position {index} is not in the byte-level alphabet.", nameof(text));
        return bytes;
    }

    private static char[] CreateTable()
    {
        var table = new char[256];
        var next = 256;
        for (var value = 0; value < 256; value++)
        {
            var printable = value is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[value] = printable ? (char)value : (char)next++;
        }

        return table;
    }
}
