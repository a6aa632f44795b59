using System.Collections.Immutable;
using Pipelines.Data;
using Pipelines.Model;
using Pipelines.Transforms;

namespace Pipelines.Transforms
{
    /// <summary>Copies columns under new names (<c>context.Transforms.CopyColumns("B", "A")</c>); nothing is learned.</summary>
    /// <remarks>Mirrors ML.NET's <c>ColumnCopyingEstimator</c>. Every input name refers to the input schema, not to copies made by the same estimator.</remarks>
    public sealed class CopyColumnsEstimator : IEstimator<CopyColumnsTransformer>
    {
        /// <summary>Creates the estimator for <paramref name="columns"/>.</summary>
        /// <exception cref="ArgumentException">No pair is given.</exception>
        public CopyColumnsEstimator(params IEnumerable<InputOutputColumnPair> columns)
        {
            ArgumentNullException.ThrowIfNull(columns);
            Columns = [.. columns];
            if (Columns.Count == 0) throw new ArgumentException("At least one column pair is required.", nameof(columns));
            if (Columns.Any(pair => pair is null)) throw new ArgumentException("A column pair is null.", nameof(columns));
        }

        /// <summary>The pairs copied.</summary>
        public IReadOnlyList<InputOutputColumnPair> Columns { get; }

        /// <inheritdoc/>
        public CopyColumnsTransformer Fit(IDataView input)
        {
            ArgumentNullException.ThrowIfNull(input);
            var transformer = new CopyColumnsTransformer(Columns);
            transformer.GetOutputSchema(input.Schema);
            return transformer;
        }

        /// <inheritdoc/>
        public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        {
            ArgumentNullException.ThrowIfNull(inputSchema);
            var added = Columns.Select(pair =>
            {
                var source = SchemaValidation.RequireColumn(inputSchema, pair.InputColumnName, ColumnRequirement.Any);
                return new SchemaShape.Column(pair.OutputColumnName, source.Kind, source.ItemType, source.IsKey);
            }).ToList();
            return inputSchema.WithColumns(added);
        }
    }

    /// <summary>The transformer of <see cref="CopyColumnsEstimator"/>: the output columns read the input columns, lazily, without copying data.</summary>
    public sealed class CopyColumnsTransformer : ITransformer, ICanSaveModel
    {
        /// <summary>The kind under which the transformer is saved.</summary>
        public const string KindName = "CopyColumns";

        private readonly ImmutableArray<InputOutputColumnPair> columns;

        /// <summary>Creates the transformer for <paramref name="columns"/>.</summary>
        /// <exception cref="ArgumentException">No pair is given.</exception>
        public CopyColumnsTransformer(params IEnumerable<InputOutputColumnPair> columns)
        {
            ArgumentNullException.ThrowIfNull(columns);
            this.columns = [.. columns];
            if (this.columns.Length == 0) throw new ArgumentException("At least one column pair is required.", nameof(columns));
            if (this.columns.Any(pair => pair is null)) throw new ArgumentException("A column pair is null.", nameof(columns));
        }

        /// <summary>The pairs copied.</summary>
        public IReadOnlyList<InputOutputColumnPair> Columns => columns;

        /// <inheritdoc/>
        public bool IsRowToRowMapper => true;

        /// <inheritdoc/>
        public string Kind => KindName;

        /// <inheritdoc/>
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
        {
            ArgumentNullException.ThrowIfNull(inputSchema);
            return RowMappedDataView.CreateSchema(inputSchema, new Mapper(columns, inputSchema).OutputColumns);
        }

        /// <inheritdoc/>
        public IDataView Transform(IDataView input)
        {
            ArgumentNullException.ThrowIfNull(input);
            return new RowMappedDataView(input, new Mapper(columns, input.Schema));
        }

        /// <inheritdoc/>
        public void Save(IModelWriter writer)
        {
            ArgumentNullException.ThrowIfNull(writer);
            writer.WriteJson(new Description([.. columns.Select(pair => new ColumnDescription(pair.OutputColumnName, pair.InputColumnName))]));
        }

        /// <summary>Loads a transformer saved by <see cref="Save"/>.</summary>
        internal static ITransformer Load(IModelReader reader) =>
            new CopyColumnsTransformer(reader.ReadJson<Description>().Columns.Select(column => new InputOutputColumnPair(column.Output, column.Input)));

        private sealed record ColumnDescription(string Output, string Input);

        private sealed record Description(IReadOnlyList<ColumnDescription> Columns);

        private sealed class Mapper : IRowMapper
        {
            private readonly DataViewSchema.Column[] sources;

            public Mapper(ImmutableArray<InputOutputColumnPair> columns, DataViewSchema inputSchema)
            {
                sources = [.. columns.Select(pair => SchemaValidation.RequireColumn(inputSchema, pair.InputColumnName, ColumnRequirement.Any))];
                InputColumnNames = [.. columns.Select(pair => pair.InputColumnName).Distinct()];
                OutputColumns = [.. columns.Select((pair, index) => new DataViewSchema.DetachedColumn(pair.OutputColumnName, sources[index].Type))];
            }

            public IReadOnlyList<string> InputColumnNames { get; }

            public IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

            public Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive) =>
                [.. sources.Select((source, index) => isOutputActive(index) ? RowGetters.GetGetter(input, source) : null)];
        }
    }
}

namespace Pipelines
{
    /// <summary>The <see cref="TransformsCatalog"/> entries of <see cref="CopyColumnsEstimator"/>.</summary>
    public static class CopyColumnsCatalogExtensions
    {
        /// <summary>Copies <paramref name="inputColumnName"/> to <paramref name="outputColumnName"/>.</summary>
        public static CopyColumnsEstimator CopyColumns(this TransformsCatalog catalog, string outputColumnName, string inputColumnName)
        {
            ArgumentNullException.ThrowIfNull(catalog);
            return new CopyColumnsEstimator(new InputOutputColumnPair(outputColumnName, inputColumnName));
        }

        /// <summary>Copies each pair's input column to its output column.</summary>
        public static CopyColumnsEstimator CopyColumns(this TransformsCatalog catalog, params InputOutputColumnPair[] columns)
        {
            ArgumentNullException.ThrowIfNull(catalog);
            return new CopyColumnsEstimator(columns);
        }
    }
}
