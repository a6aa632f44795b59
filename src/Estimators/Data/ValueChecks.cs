namespace Pipelines.Data;

/// <summary>Checks that a value fits its column type (vector length, key range) when data is loaded.</summary>
internal static class ValueChecks
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the column and row when <paramref name="value"/> does not fit <paramref name="type"/>.</summary>
    public static void Check<TValue>(DataViewType type, TValue value, string columnName, long row)
    {
        switch (type)
        {
            case KeyDataViewType key when value is uint raw && raw > key.Count:
                throw new ArgumentException($"Column '{columnName}', row {row}: key value {raw} is above the key count {key.Count}.");
            case VectorDataViewType vector:
                var length = VectorLength(value);
                if (vector.IsKnownSize && length != vector.Size)
                    throw new ArgumentException($"Column '{columnName}', row {row}: a vector of {length} items, but the column holds vectors of {vector.Size}.");
                if (vector.ItemType is KeyDataViewType itemKey && value is ReadOnlyMemory<uint> keys)
                {
                    foreach (var item in keys.Span)
                        if (item > itemKey.Count)
                            throw new ArgumentException($"Column '{columnName}', row {row}: key value {item} is above the key count {itemKey.Count}.");
                }

                break;
        }
    }

    private static int VectorLength<TValue>(TValue value) => value switch
    {
        ReadOnlyMemory<float> memory => memory.Length,
        ReadOnlyMemory<double> memory => memory.Length,
        ReadOnlyMemory<int> memory => memory.Length,
        ReadOnlyMemory<uint> memory => memory.Length,
        ReadOnlyMemory<long> memory => memory.Length,
        ReadOnlyMemory<bool> memory => memory.Length,
        ReadOnlyMemory<ReadOnlyMemory<char>> memory => memory.Length,
        _ => throw new ArgumentException($"Unexpected vector value of type {value?.GetType().Name ?? "null"}."),
    };
}
