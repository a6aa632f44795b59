using System.Globalization;
using CsvHelper;
using Pipelines.Data.Mapping;

namespace Pipelines.Data;

/// <summary>Reads a delimited text file into objects of a data class whose members carry <see cref="LoadColumnAttribute"/>.</summary>
internal static class TextFileLoader
{
    /// <summary>The rows of the file, and the column type of each array member: a vector of as many items as it reads fields.</summary>
    public static (List<TRow> Rows, Dictionary<string, DataViewType> ColumnTypes) Read<TRow>(string path, char separatorChar, bool hasHeader, bool allowQuoting, bool trimWhitespace)
        where TRow : class, new()
    {
        var fields = MemberBinding<TRow>.For(member => member.CanWrite).Select(binding => new FieldReader<TRow>(binding)).ToArray();
        var columnTypes = new Dictionary<string, DataViewType>(StringComparer.Ordinal);
        foreach (var field in fields.Where(field => field.VectorType is not null)) columnTypes[field.ColumnName] = field.VectorType!;
        var options = new CsvReaderOptions
        {
            Separator = separatorChar,
            HasHeader = hasHeader,
            Mode = allowQuoting ? CsvMode.Rfc4180 : CsvMode.NoEscape,
            TrimWhitespace = trimWhitespace,
            TrackLineNumbers = true,
            FormatProvider = CultureInfo.InvariantCulture,
        };
        var rows = new List<TRow>();
        using var reader = CsvReader.FromFile(path, options);
        while (reader.Read())
        {
            var row = new TRow();
            foreach (var field in fields) field.Read(reader, row, path);
            rows.Add(row);
        }

        return (rows, columnTypes);
    }

    /// <summary>Parses the field(s) of one member and sets it.</summary>
    private sealed class FieldReader<TRow>
        where TRow : class
    {
        private readonly Action<TRow, object> set;
        private readonly IReadOnlyList<int> fieldIndexes;
        private readonly Type itemType;
        private readonly bool isArray;
        private readonly string memberName;

        public FieldReader(MemberBinding<TRow> binding)
        {
            var member = binding.Member;
            memberName = member.DisplayName;
            fieldIndexes = member.LoadColumn?.FieldIndexes
                ?? throw new InvalidOperationException($"Member {memberName} has no [LoadColumn] attribute naming its field in the text file; mark it [NoColumn] to leave it out.");
            isArray = member.MemberType.IsArray;
            itemType = isArray ? member.MemberType.GetElementType()! : member.MemberType;
            if (!isArray && fieldIndexes.Count != 1)
                throw new InvalidOperationException($"Member {memberName} is a scalar but its [LoadColumn] names {fieldIndexes.Count} fields; use an array.");
            set = binding.CreateSetter();
            ColumnName = member.ColumnName;
            if (member.ColumnType is VectorDataViewType vector)
            {
                if (vector.IsKnownSize && vector.Size != fieldIndexes.Count)
                    throw new InvalidOperationException($"Member {memberName} is a vector of {vector.Size} items but its [LoadColumn] names {fieldIndexes.Count} fields.");
                VectorType = new VectorDataViewType(vector.ItemType, vector.IsKnownSize ? [.. vector.Dimensions] : [fieldIndexes.Count]);
            }
        }

        /// <summary>The column the member fills.</summary>
        public string ColumnName { get; }

        /// <summary>For an array member, its vector type, of fixed size.</summary>
        public VectorDataViewType? VectorType { get; }

        public void Read(CsvReader reader, TRow row, string path)
        {
            if (!isArray)
            {
                set(row, Parse(reader, fieldIndexes[0], path));
                return;
            }

            var values = Array.CreateInstance(itemType, fieldIndexes.Count);
            for (var index = 0; index < fieldIndexes.Count; index++) values.SetValue(Parse(reader, fieldIndexes[index], path), index);
            set(row, values);
        }

        private object Parse(CsvReader reader, int fieldIndex, string path)
        {
            if (fieldIndex >= reader.FieldCount)
                throw new InvalidDataException(
                    $"{path}, line {reader.LineNumber}: member {memberName} reads field {fieldIndex}, but the line has {reader.FieldCount} fields.");
            var text = reader.GetString(fieldIndex);
            if (itemType == typeof(string)) return text;
            if (itemType == typeof(ReadOnlyMemory<char>)) return text.AsMemory();
            object? value = itemType switch
            {
                _ when itemType == typeof(float) => text.Length == 0 ? float.NaN : float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var single) ? single : null,
                _ when itemType == typeof(double) => text.Length == 0 ? double.NaN : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null,
                _ when itemType == typeof(int) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer) ? integer : null,
                _ when itemType == typeof(uint) => uint.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var unsigned) ? unsigned : null,
                _ when itemType == typeof(long) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var wide) ? wide : null,
                _ when itemType == typeof(bool) => ParseBoolean(text),
                _ => throw new InvalidOperationException($"Member {memberName} of type {itemType.Name} cannot be read from text."),
            };
            return value ?? throw new InvalidDataException(
                $"{path}, line {reader.LineNumber}, field {fieldIndex}: '{text}' is not a valid {itemType.Name} for member {memberName}.");
        }

        private static object? ParseBoolean(string text) => text.Trim().ToLowerInvariant() switch
        {
            "true" or "1" => true,
            "false" or "0" => false,
            _ => null,
        };
    }
}
