using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Pipelines.FineTuning;

/// <summary>
/// The classes of a key label column, as ML.NET's multiclass trainers see them: class <c>k</c> (0-based, the <c>k</c>-th
/// <c>Score</c> slot) is key <c>k + 1</c>, and the label's <c>KeyValues</c> (when it has them) name the classes.
/// </summary>
/// <remarks>
/// The key values travel into the predicted-label column (so <c>MapKeyToValue("PredictedLabel")</c> gives back the
/// original labels) and, as text, into the score column's <c>SlotNames</c>. They are saved as invariant text and parsed
/// back into their own type; the supported value types are those ML.NET's <c>MapValueToKey</c> is used with: text,
/// boolean, Single, Double, Int32, Int64 and UInt32. Keys whose values are of another type are kept as keys without values.
/// </remarks>
internal sealed class LabelClasses
{
    private const string KeyValues = "KeyValues";
    private const string SlotNames = "SlotNames";

    private static readonly ValueKind[] Kinds =
    [
        ValueKind.Create<ReadOnlyMemory<char>>(TextDataViewType.Instance, value => value.ToString(), text => text.AsMemory()),
        ValueKind.Create(BooleanDataViewType.Instance, value => value ? bool.TrueString : bool.FalseString, bool.Parse),
        ValueKind.Create(NumberDataViewType.Single, value => value.ToString("R", CultureInfo.InvariantCulture), text => float.Parse(text, CultureInfo.InvariantCulture)),
        ValueKind.Create(NumberDataViewType.Double, value => value.ToString("R", CultureInfo.InvariantCulture), text => double.Parse(text, CultureInfo.InvariantCulture)),
        ValueKind.Create(NumberDataViewType.Int32, value => value.ToString(CultureInfo.InvariantCulture), text => int.Parse(text, CultureInfo.InvariantCulture)),
        ValueKind.Create(NumberDataViewType.Int64, value => value.ToString(CultureInfo.InvariantCulture), text => long.Parse(text, CultureInfo.InvariantCulture)),
        ValueKind.Create(NumberDataViewType.UInt32, value => value.ToString(CultureInfo.InvariantCulture), text => uint.Parse(text, CultureInfo.InvariantCulture)),
    ];

    private readonly ValueKind? kind;

    private LabelClasses(int count, ValueKind? kind, IReadOnlyList<string>? names)
    {
        Count = count;
        this.kind = kind;
        Names = names;
        KeyType = new KeyDataViewType(typeof(uint), count);
        PredictedLabelAnnotations = CreateAnnotations(kind is null || names is null ? null : builder => kind.AddVector(builder, KeyValues, names));
        ScoreAnnotations = CreateAnnotations(names is null ? null : builder => Kinds[0].AddVector(builder, SlotNames, names));
    }

    /// <summary>What a label column must be: a scalar key of UInt32 (any count).</summary>
    public static ColumnRequirement Requirement { get; } = ColumnRequirement.Key();

    /// <summary>Number of classes K: the label's key count.</summary>
    public int Count { get; }

    /// <summary>The label's key type, which the predicted label shares.</summary>
    public KeyDataViewType KeyType { get; }

    /// <summary>The classes' names in slot order (the key values as invariant text), or null when the label has no key values.</summary>
    public IReadOnlyList<string>? Names { get; }

    /// <summary>The predicted label's annotations: the label's <c>KeyValues</c>, when it had them.</summary>
    public DataViewSchema.Annotations PredictedLabelAnnotations { get; }

    /// <summary>The score's annotations: <c>SlotNames</c>, the class names as text, when the label had key values.</summary>
    public DataViewSchema.Annotations ScoreAnnotations { get; }

    /// <summary>The classes of the label column <paramref name="label"/>.</summary>
    /// <exception cref="SchemaMismatchException">The column is not a key of UInt32 with at least two values.</exception>
    public static LabelClasses FromColumn(DataViewSchema.Column label, string parameterName)
    {
        if (label.Type is not KeyDataViewType { RawType: var raw } key || raw != typeof(uint) || key.Count < 2 || key.Count > int.MaxValue)
            throw new SchemaMismatchException(label.Name, "Key<UInt32> of at least 2 classes (put MapValueToKey before the trainer)", label.Type.ToString()!, parameterName);
        var count = (int)key.Count;
        if (label.Annotations.Schema.GetColumnOrNull(KeyValues) is not { Type: VectorDataViewType { Size: var size, ItemType: var itemType } } || size != count
            || Kinds.FirstOrDefault(candidate => candidate.Type.Equals(itemType)) is not { } kind)
            return new LabelClasses(count, kind: null, names: null);
        return new LabelClasses(count, kind, kind.ReadVector(label.Annotations, KeyValues));
    }

    /// <summary>The shapes of the predicted-label and score columns for a label column of shape <paramref name="label"/>.</summary>
    public static (SchemaShape PredictedLabel, SchemaShape Score) AnnotationShapes(SchemaShape.Column label)
    {
        var keyValues = label.Annotations.FirstOrDefault(annotation => annotation.Name == KeyValues && annotation.Kind == SchemaShape.Column.VectorKind.Vector
            && Kinds.Any(kind => kind.Type.Equals(annotation.ItemType)));
        if (keyValues.Name is null) return (new SchemaShape([]), new SchemaShape([]));
        return (new SchemaShape([keyValues]),
            new SchemaShape([SchemaShapes.Column(SlotNames, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, isKey: false)]));
    }

    /// <summary>What is saved: the class count and, when known, the key values' type and text.</summary>
    public Description Describe() => new(Count, kind?.Type.ToString(), Names);

    /// <summary>Rebuilds saved classes.</summary>
    /// <exception cref="InvalidDataException">Fewer than two classes, an unknown value type, or values that do not fit it or the count.</exception>
    public static LabelClasses Restore(Description description)
    {
        if (description.ClassCount < 2) throw new InvalidDataException($"The saved classifier has {description.ClassCount} classes; at least 2 are needed.");
        if (description.ValueType is null || description.Values is null) return new LabelClasses(description.ClassCount, kind: null, names: null);
        var kind = Kinds.FirstOrDefault(candidate => candidate.Type.ToString() == description.ValueType)
            ?? throw new InvalidDataException($"The saved label values are of type {description.ValueType}, which this version does not read.");
        if (description.Values.Count != description.ClassCount)
            throw new InvalidDataException($"The saved classifier has {description.ClassCount} classes but {description.Values.Count} label values.");
        try
        {
            foreach (var value in description.Values) kind.Check(value);
        }
        catch (FormatException exception)
        {
            throw new InvalidDataException($"A saved label value is not a {description.ValueType}: {exception.Message}", exception);
        }

        return new LabelClasses(description.ClassCount, kind, description.Values);
    }

    private static DataViewSchema.Annotations CreateAnnotations(Action<DataViewSchema.Annotations.Builder>? add)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        add?.Invoke(builder);
        return builder.ToAnnotations();
    }

    /// <summary>The saved form of the classes.</summary>
    /// <param name="ClassCount">K.</param>
    /// <param name="ValueType">The key values' type (such as <c>String</c>), or null when the label had none.</param>
    /// <param name="Values">The key values as invariant text, in slot order, or null.</param>
    internal sealed record Description(int ClassCount, string? ValueType, IReadOnlyList<string>? Values);

    /// <summary>How one type of key value is read from an annotation, written as text, and parsed back.</summary>
    private sealed class ValueKind
    {
        private ValueKind(PrimitiveDataViewType type) => Type = type;

        public PrimitiveDataViewType Type { get; }

        public Func<DataViewSchema.Annotations, string, string[]> ReadVector { get; private init; } = null!;

        public Action<DataViewSchema.Annotations.Builder, string, IReadOnlyList<string>> AddVector { get; private init; } = null!;

        public Action<string> Check { get; private init; } = null!;

        public static ValueKind Create<T>(PrimitiveDataViewType type, Func<T, string> format, Func<string, T> parse) => new(type)
        {
            ReadVector = (annotations, name) =>
            {
                VBuffer<T> values = default;
                annotations.GetValue(name, ref values);
                return [.. values.DenseValues().Select(format)];
            },
            AddVector = (builder, name, texts) =>
            {
                var values = texts.Select(parse).ToArray();
                builder.Add(name, new VectorDataViewType(type, values.Length), (ref VBuffer<T> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, values.Length);
                    values.CopyTo(editor.Values);
                    value = editor.Commit();
                });
            },
            Check = text => parse(text),
        };
    }
}
