using Microsoft.ML;
using Microsoft.ML.Data;

namespace Pipelines.MachineLearning;

/// <summary>
/// Runs an <see cref="IRowMapper"/> for ML.NET: the output schema, which input columns a request needs, and the
/// <see cref="IRowToRowMapper"/> that prediction engines use.
/// </summary>
internal sealed class RowMapping : IRowToRowMapper
{
    private readonly IRowMapper mapper;

    public RowMapping(DataViewSchema inputSchema, IRowMapper mapper)
    {
        InputSchema = inputSchema;
        this.mapper = mapper;
        OutputSchema = CreateOutputSchema(inputSchema, mapper.OutputColumns);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    /// <summary>The schema of <paramref name="inputSchema"/> followed by <paramref name="addedColumns"/> (with their annotations).</summary>
    public static DataViewSchema CreateOutputSchema(DataViewSchema inputSchema, IEnumerable<DataViewSchema.DetachedColumn> addedColumns)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var column in addedColumns) builder.AddColumn(column.Name, column.Type, column.Annotations);
        return builder.ToSchema();
    }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = dependingColumns.Select(column => column.Index).ToHashSet();
        var dependencies = InputSchema.Where(column => needed.Contains(column.Index)).ToList();
        if (needed.Any(index => index >= InputSchema.Count)) dependencies.AddRange(mapper.InputColumns);
        return dependencies.Distinct();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        var plan = Plan(OutputSchema, InputSchema, mapper, activeColumns);
        return new Row(OutputSchema, input, plan.CreateGetters(mapper, input), plan.Active);
    }

    /// <summary>Which input columns a request for <paramref name="columnsNeeded"/> of the output needs.</summary>
    public static CursorPlan Plan(DataViewSchema outputSchema, DataViewSchema inputSchema, IRowMapper mapper, IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        var active = new bool[outputSchema.Count];
        foreach (var column in columnsNeeded)
        {
            if (column.Index < 0 || column.Index >= active.Length)
                throw new ArgumentOutOfRangeException(nameof(columnsNeeded), column.Name, $"Column '{column.Name}' (index {column.Index}) is not a column of this data view.");
            active[column.Index] = true;
        }

        var inputCount = inputSchema.Count;
        var anyOutput = active.AsSpan(inputCount).Contains(true);
        var inputColumns = new List<DataViewSchema.Column>();
        for (var index = 0; index < inputCount; index++)
            if (active[index]) inputColumns.Add(inputSchema[index]);
        if (anyOutput) inputColumns.AddRange(mapper.InputColumns);
        return new CursorPlan(active, inputCount, anyOutput, inputColumns.Distinct().ToArray());
    }

    /// <summary>What a cursor or row reads: the active output columns and the input columns behind them.</summary>
    public sealed record CursorPlan(bool[] Active, int InputCount, bool AnyOutput, DataViewSchema.Column[] InputColumns)
    {
        public MappedGetters CreateGetters(IRowMapper mapper, DataViewRow input) =>
            new(InputCount, AnyOutput ? mapper.CreateGetters(input, output => Active[InputCount + output]) : null, mapper);
    }

    private sealed class Row(DataViewSchema schema, DataViewRow input, MappedGetters getters, bool[] active) : DataViewRow
    {
        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override DataViewSchema Schema => schema;

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => getters.Get<TValue>(input, column);
    }
}

/// <summary>The getters of a mapped row: input columns pass through, added columns come from the mapper.</summary>
internal sealed class MappedGetters(int inputCount, Delegate?[]? added, IRowMapper mapper)
{
    public ValueGetter<TValue> Get<TValue>(DataViewRow input, DataViewSchema.Column column)
    {
        if (column.Index < inputCount) return input.GetGetter<TValue>(input.Schema[column.Index]);
        var output = column.Index - inputCount;
        var getter = added?[output] ?? throw new InvalidOperationException(
            $"Column '{column.Name}' was not requested when the cursor was created, so it cannot be read.");
        return getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
            $"Column '{column.Name}' holds {mapper.OutputColumns[output].Type.RawType.Name} values, not {typeof(TValue).Name}.");
    }
}
