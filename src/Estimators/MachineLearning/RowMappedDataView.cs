using Microsoft.ML;
using Microsoft.ML.Data;

namespace Pipelines.MachineLearning;

/// <summary>
/// The output of a row-to-row transformer: the input's columns followed by the columns an <see cref="IRowMapper"/>
/// adds, computed as cursors move and only when read.
/// </summary>
internal sealed class RowMappedDataView : IDataView
{
    private readonly IDataView input;
    private readonly IRowMapper mapper;

    public RowMappedDataView(IDataView input, IRowMapper mapper)
    {
        this.input = input;
        this.mapper = mapper;
        Schema = RowMapping.CreateOutputSchema(input.Schema, mapper.OutputColumns);
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => input.CanShuffle;

    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var plan = RowMapping.Plan(Schema, input.Schema, mapper, columnsNeeded);
        var inputCursor = input.GetRowCursor(plan.InputColumns, rand);
        try
        {
            return new Cursor(Schema, inputCursor, plan.CreateGetters(mapper, inputCursor), plan.Active);
        }
        catch
        {
            inputCursor.Dispose();
            throw;
        }
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(DataViewSchema schema, DataViewRowCursor input, MappedGetters getters, bool[] active) : DataViewRowCursor
    {
        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override DataViewSchema Schema => schema;

        public override bool MoveNext() => input.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => getters.Get<TValue>(input, column);

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }
}
