using System.Globalization;
using System.Reflection;

namespace Pipelines.Reporting;

/// <summary>The CSV columns of a record type (its public properties) and invariant text conversion of their values.</summary>
/// <remarks>
/// Columns are the public instance properties with a getter, in declaration order. A record is rebuilt with the
/// constructor whose parameters all name columns (the one with most parameters; a positional C# record's or an
/// F# record's), then by setting the other settable properties; get-only computed properties are written but
/// not read back.
/// </remarks>
internal sealed class MetricsCsvLayout<TRecord>
{
    private readonly PropertyInfo[] properties;
    private readonly ConstructorInfo constructor;
    private readonly int[] constructorColumns;
    private readonly int[] settableColumns;

    public MetricsCsvLayout()
    {
        var type = typeof(TRecord);
        properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.GetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0)
            .OrderBy(property => property.MetadataToken)
            .ToArray();
        if (properties.Length == 0) throw new NotSupportedException($"{type.Name} has no public properties to write as CSV columns.");
        foreach (var property in properties)
        {
            if (!IsSupported(property.PropertyType))
                throw new NotSupportedException($"Property {type.Name}.{property.Name} has type {property.PropertyType.Name}, which has no CSV text form (use numbers, strings, booleans, enums, dates, times or their nullable forms).");
        }

        Header = properties.Select(property => property.Name).ToArray();
        var columnOf = Header.Select((name, index) => (name, index)).ToDictionary(entry => entry.name, entry => entry.index, StringComparer.OrdinalIgnoreCase);
        (constructor, constructorColumns) = type.GetConstructors()
            .Select(candidate => (Constructor: candidate, Columns: candidate.GetParameters()
                .Select(parameter => parameter.Name is { } name && columnOf.TryGetValue(name, out var column) && properties[column].PropertyType == parameter.ParameterType ? column : -1)
                .ToArray()))
            .Where(candidate => candidate.Columns.All(column => column >= 0))
            .OrderByDescending(candidate => candidate.Columns.Length)
            .Select(candidate => (candidate.Constructor, candidate.Columns))
            .FirstOrDefault();
        if (constructor is null)
            throw new NotSupportedException($"{type.Name} has no public constructor whose parameters all match properties by name and type, so it cannot be read from CSV.");
        settableColumns = Enumerable.Range(0, properties.Length)
            .Where(column => !constructorColumns.Contains(column) && properties[column].SetMethod is { IsPublic: true })
            .ToArray();
    }

    /// <summary>The column names, in order.</summary>
    public string[] Header { get; }

    /// <summary>The record's values as invariant text, one per column.</summary>
    public string[] Format(TRecord record)
    {
        var fields = new string[properties.Length];
        for (var column = 0; column < properties.Length; column++) fields[column] = FormatValue(properties[column].GetValue(record));
        return fields;
    }

    /// <summary>Rebuilds a record; <paramref name="fieldOfColumn"/>(column) gives that column's text, or null when the file lacks it.</summary>
    /// <exception cref="InvalidDataException">A required column is missing or a value does not parse (the message names the row and column).</exception>
    public TRecord Parse(Func<int, string?> fieldOfColumn, long rowNumber)
    {
        var arguments = new object?[constructorColumns.Length];
        for (var index = 0; index < constructorColumns.Length; index++)
        {
            var column = constructorColumns[index];
            var text = fieldOfColumn(column) ?? throw new InvalidDataException($"The CSV has no column '{Header[column]}', which {typeof(TRecord).Name} needs.");
            arguments[index] = ParseValue(text, properties[column].PropertyType, rowNumber, column);
        }

        var record = (TRecord)constructor.Invoke(arguments);
        foreach (var column in settableColumns)
        {
            if (fieldOfColumn(column) is { } text) properties[column].SetValue(record, ParseValue(text, properties[column].PropertyType, rowNumber, column));
        }

        return record;
    }

    private static bool IsSupported(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying == typeof(string) || underlying == typeof(bool) || underlying.IsEnum
            || (typeof(IFormattable).IsAssignableFrom(underlying) && ParseMethod(underlying) is not null);
    }

    private static MethodInfo? ParseMethod(Type type) =>
        type.GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(IFormatProvider)]);

    private static string FormatValue(object? value) => value switch
    {
        null => "",
        string text => text,
        bool flag => flag ? "True" : "False",
        Enum choice => choice.ToString(),
        DateTime time => time.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset time => time.ToString("O", CultureInfo.InvariantCulture),
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        // "R" is the shortest text that parses back to the same bits (NaN and infinities included).
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        float number => number.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException($"No CSV text form for {value.GetType().Name}."),
    };

    private object? ParseValue(string text, Type type, long rowNumber, int column)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null && text.Length == 0) return null;
        var target = underlying ?? type;
        try
        {
            if (target == typeof(string)) return text;
            if (target == typeof(bool)) return bool.Parse(text);
            if (target.IsEnum) return Enum.Parse(target, text, ignoreCase: false);
            if (target == typeof(DateTime)) return DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            if (target == typeof(DateTimeOffset)) return DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            if (target == typeof(TimeSpan)) return TimeSpan.ParseExact(text, "c", CultureInfo.InvariantCulture);
            return ParseMethod(target)!.Invoke(null, [text, CultureInfo.InvariantCulture]);
        }
        catch (Exception exception) when (exception is FormatException or OverflowException or ArgumentException
            || exception is TargetInvocationException { InnerException: FormatException or OverflowException or ArgumentException })
        {
            throw new InvalidDataException($"Row {rowNumber}, column '{Header[column]}': '{text}' is not a valid {target.Name}.", exception);
        }
    }
}
