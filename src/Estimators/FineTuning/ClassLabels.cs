using Pipelines.Data;

namespace Pipelines.FineTuning;

/// <summary>
/// The classes of a label column and the order of the <c>Score</c> slots: text labels in ordinal order of their
/// values, booleans as (false, true), keys as 1..Count. Each value is handled through its name (the text itself,
/// <c>False</c>/<c>True</c>, or the key number) so that the three kinds share one dictionary.
/// </summary>
internal sealed class ClassLabels
{
    private readonly Dictionary<string, int> indexByName;

    private ClassLabels(DataViewType labelType, IReadOnlyList<string> names)
    {
        LabelType = labelType;
        Names = names;
        indexByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var index = 0; index < names.Count; index++) indexByName.Add(names[index], index);
    }

    /// <summary>What a label column may be: text, boolean or key.</summary>
    public static ColumnRequirement Requirement { get; } =
        ColumnRequirement.OneOf(ColumnRequirement.Scalar(TextDataViewType.Instance), ColumnRequirement.Scalar(BooleanDataViewType.Instance), ColumnRequirement.Key());

    /// <summary>The label column's type; predicted labels have the same.</summary>
    public DataViewType LabelType { get; }

    /// <summary>The class names, in the order of the score slots.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of classes.</summary>
    public int Count => Names.Count;

    /// <summary>The classes of a label column of <paramref name="labelType"/> whose non-missing values are <paramref name="observed"/>.</summary>
    /// <exception cref="ArgumentException">Fewer than two classes.</exception>
    public static ClassLabels Create(DataViewType labelType, string columnName, IEnumerable<string> observed)
    {
        IReadOnlyList<string> names = labelType switch
        {
            BooleanDataViewType => [bool.FalseString, bool.TrueString],
            KeyDataViewType key => [.. Enumerable.Range(1, checked((int)key.Count)).Select(value => value.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            _ => [.. observed.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
        };
        if (names.Count < 2)
            throw new ArgumentException(
                $"The label column '{columnName}' holds {names.Count} class{(names.Count == 1 ? $" ('{names[0]}')" : "es")}; classification needs at least two.", nameof(observed));
        return new ClassLabels(labelType, names);
    }

    /// <summary>Rebuilds saved classes, checking that they fit the label type.</summary>
    /// <exception cref="InvalidDataException">The names do not fit the type, repeat, or are fewer than two.</exception>
    public static ClassLabels Restore(DataViewType labelType, IReadOnlyList<string> names)
    {
        if (labelType is not (TextDataViewType or BooleanDataViewType or KeyDataViewType))
            throw new InvalidDataException($"A label of type {labelType} is not supported.");
        var expected = labelType is TextDataViewType || names.Count < 2 ? null : Create(labelType, "Label", []).Names;
        if (names.Count < 2 || names.Distinct(StringComparer.Ordinal).Count() != names.Count || (expected is not null && !expected.SequenceEqual(names)))
            throw new InvalidDataException($"The saved classes [{string.Join(", ", names)}] do not fit a label of type {labelType}.");
        return new ClassLabels(labelType, names);
    }

    /// <summary>The slot of the class named <paramref name="name"/>, or -1.</summary>
    public int IndexOf(string name) => indexByName.GetValueOrDefault(name, -1);

    /// <summary>Reads a label column as class names; a missing value (empty text, key 0) reads as null.</summary>
    public static Func<string?> NameReader(DataViewRow row, DataViewSchema.Column column) => column.Type switch
    {
        TextDataViewType => TextReader(row.GetGetter<ReadOnlyMemory<char>>(column)),
        BooleanDataViewType => BooleanReader(row.GetGetter<bool>(column)),
        KeyDataViewType => KeyReader(row.GetGetter<uint>(column)),
        _ => throw new SchemaMismatchException(column.Name, Requirement.Description, column.Type.ToString()!),
    };

    /// <summary>A getter of the predicted label, in the label's raw type, from the predicted slot.</summary>
    public Delegate PredictedLabelGetter(Func<int> predictedSlot) => LabelType switch
    {
        BooleanDataViewType => (ValueGetter<bool>)((ref bool value) => value = predictedSlot() == 1),
        KeyDataViewType => (ValueGetter<uint>)((ref uint value) => value = (uint)predictedSlot() + 1),
        _ => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = Names[predictedSlot()].AsMemory()),
    };

    private static Func<string?> TextReader(ValueGetter<ReadOnlyMemory<char>> getter)
    {
        ReadOnlyMemory<char> value = default;
        return () =>
        {
            getter(ref value);
            return value.IsEmpty ? null : value.ToString();
        };
    }

    private static Func<string?> BooleanReader(ValueGetter<bool> getter)
    {
        var value = false;
        return () =>
        {
            getter(ref value);
            return value ? bool.TrueString : bool.FalseString;
        };
    }

    private static Func<string?> KeyReader(ValueGetter<uint> getter)
    {
        uint value = 0;
        return () =>
        {
            getter(ref value);
            return value == 0 ? null : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        };
    }
}
