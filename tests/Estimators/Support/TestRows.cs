using Pipelines.Data;

namespace Pipelines.Estimators.Tests.Support;

/// <summary>A data class with every supported member type.</summary>
public sealed class AllTypesRow
{
    public float Single { get; set; }

    public double Double { get; set; }

    public int Int32 { get; set; }

    public long Int64 { get; set; }

    public bool Flag { get; set; }

    public string Text { get; set; } = "";

    [KeyType(5)]
    public uint Label { get; set; }

    [VectorType(3)]
    public float[] Features { get; set; } = [];

    [ColumnName("Tokens")]
    public int[] TokenIds { get; set; } = [];

    public string[] Words { get; set; } = [];

    [NoColumn]
    public string Ignored { get; set; } = "not a column";
}

/// <summary>A row with one number and one text.</summary>
public sealed class NumberRow
{
    public float Value { get; set; }

    public string Name { get; set; } = "";
}

/// <summary>What a custom mapping reads.</summary>
public sealed class ValueInput
{
    public float Value { get; set; }
}

/// <summary>What a custom mapping writes.</summary>
public sealed class DoubledOutput
{
    public float Doubled { get; set; }

    [VectorType(2)]
    public float[] Pair { get; set; } = [];
}

/// <summary>Test data.</summary>
internal static class TestData
{
    public static IDataView Numbers(PipelineContext context, int count) =>
        context.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(index => new NumberRow { Value = index, Name = $"row{index}" }));

    public static float[] Values(IDataView data, string columnName = "Value")
    {
        var column = data.Schema[columnName];
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<float>(column);
        var values = new List<float>();
        float value = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            values.Add(value);
        }

        return [.. values];
    }
}
