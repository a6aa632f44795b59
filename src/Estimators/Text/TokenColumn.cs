using Microsoft.ML;
using Microsoft.ML.Data;
using Pipelines.Components.Text;

namespace Pipelines.Text;

/// <summary>
/// The token column the tokenizer writes and the language models read: a variable-size vector of keys sized to the
/// vocabulary (<c>Vector&lt;Key&lt;UInt32, V&gt;&gt;</c>, ML.NET's 1-based keys: token id <c>t</c> is stored as
/// <c>t + 1</c>), carrying the vocabulary with the data.
/// </summary>
/// <remarks>
/// Two annotations travel with the column and survive stock transforms that copy a column's annotations:
/// <c>KeyValues</c>, each token as text in GPT-2's byte-level alphabet (so <c>MapKeyToValue</c> shows tokens), and
/// <see cref="TokenizerAnnotation"/>, the tokenizer itself as JSON, from which a model fitted further down the chain
/// learns the vocabulary, the end-of-text id and the bytes behind each token.
/// </remarks>
public static class TokenColumn
{
    /// <summary>The annotation holding the tokenizer's JSON (<see cref="BytePairEncoding.ToJson"/>).</summary>
    public const string TokenizerAnnotation = "Pipelines.Tokenizer";

    /// <summary>The column's type for a vocabulary of <paramref name="vocabularySize"/> tokens.</summary>
    public static VectorDataViewType Type(int vocabularySize) => new(new KeyDataViewType(typeof(uint), vocabularySize));

    /// <summary>What a token column must be.</summary>
    internal static ColumnRequirement Requirement { get; } = ColumnRequirement.Vector(new KeyDataViewType(typeof(uint), 1));

    /// <summary>The column's annotations for <paramref name="tokenizer"/>.</summary>
    internal static DataViewSchema.Annotations CreateAnnotations(BytePairEncoding tokenizer)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        var names = Enumerable.Range(0, tokenizer.VocabularySize).Select(id => TokenText(tokenizer, id).AsMemory()).ToArray();
        builder.Add("KeyValues", new VectorDataViewType(TextDataViewType.Instance, names.Length),
            (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(names.Length, names));
        var json = tokenizer.ToJson().AsMemory();
        builder.Add(TokenizerAnnotation, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = json);
        return builder.ToAnnotations();
    }

    /// <summary>The shape of the column's annotations, for <c>GetOutputSchema</c>.</summary>
    internal static SchemaShape AnnotationShape { get; } = new([
        SchemaShapes.Column("KeyValues", SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, isKey: false),
        SchemaShapes.Column(TokenizerAnnotation, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, isKey: false)]);

    /// <summary>The tokenizer that wrote <paramref name="column"/>, from its annotation; null when it carries none.</summary>
    /// <exception cref="InvalidDataException">The annotation is not a tokenizer.</exception>
    public static BytePairEncoding? FindTokenizer(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull(TokenizerAnnotation) is not { } annotation) return null;
        ReadOnlyMemory<char> json = default;
        column.Annotations.GetValue(TokenizerAnnotation, ref json);
        return BytePairEncoding.FromJson(json.ToString());
    }

    /// <summary>The vocabulary size of a token column: its key count.</summary>
    internal static int VocabularySize(DataViewSchema.Column column) =>
        checked((int)((KeyDataViewType)((VectorDataViewType)column.Type).ItemType).Count);

    /// <summary>Reads a row's token ids (0-based) from a cursor; a missing key (0) fails naming the row.</summary>
    internal static Func<int[]> CreateReader(DataViewRow row, DataViewSchema.Column column)
    {
        var getter = row.GetGetter<VBuffer<uint>>(column);
        VBuffer<uint> keys = default;
        return () =>
        {
            getter(ref keys);
            var values = keys.DenseValues().ToArray();
            var ids = new int[values.Length];
            for (var index = 0; index < ids.Length; index++)
            {
                if (values[index] == 0)
                    throw new ArgumentException($"Row {row.Position} of column '{column.Name}' has a missing token (key 0) at position {index}.");
                ids[index] = (int)values[index] - 1;
            }

            return ids;
        };
    }

    /// <summary>A token's text in GPT-2's byte-level alphabet (special tokens as their own text).</summary>
    internal static string TokenText(BytePairEncoding tokenizer, int id) =>
        tokenizer.IsSpecialToken(id) ? tokenizer.SpecialTokens[id - (tokenizer.VocabularySize - tokenizer.SpecialTokens.Count)] : ByteLevelAlphabet.Encode(tokenizer.GetTokenBytes(id));
}
