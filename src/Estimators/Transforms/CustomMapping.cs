using Pipelines.Data;
using Pipelines.Data.Mapping;
using Pipelines.Model;
using Pipelines.Transforms;

namespace Pipelines.Transforms
{
    /// <summary>
    /// Adds the columns of <typeparamref name="TDst"/> computed by a user action from the columns of
    /// <typeparamref name="TSrc"/> (<c>context.Transforms.CustomMapping&lt;TSrc, TDst&gt;(action, "name")</c>).
    /// </summary>
    /// <typeparam name="TSrc">Its writable members are read from the input columns of their names.</typeparam>
    /// <typeparam name="TDst">Its readable members become the output columns.</typeparam>
    /// <remarks>
    /// Mirrors ML.NET's <c>CustomMappingEstimator</c>. To save the fitted transformer give a contract name; to load
    /// it, pass a <see cref="CustomMappingFactory{TSrc, TDst}"/> of that name to <c>context.Model.Load</c> (there is
    /// no attribute-based registration).
    /// </remarks>
    public sealed class CustomMappingEstimator<TSrc, TDst> : IEstimator<CustomMappingTransformer<TSrc, TDst>>
        where TSrc : class, new()
        where TDst : class, new()
    {
        private readonly Action<TSrc, TDst> mapAction;
        private readonly string? contractName;

        /// <summary>Creates the estimator.</summary>
        /// <param name="mapAction">Fills the output object from the input object; called once per row read, from any thread.</param>
        /// <param name="contractName">The name the mapping is saved under; null if it will not be saved.</param>
        public CustomMappingEstimator(Action<TSrc, TDst> mapAction, string? contractName)
        {
            ArgumentNullException.ThrowIfNull(mapAction);
            this.mapAction = mapAction;
            this.contractName = contractName;
        }

        /// <inheritdoc/>
        public CustomMappingTransformer<TSrc, TDst> Fit(IDataView input)
        {
            ArgumentNullException.ThrowIfNull(input);
            var transformer = new CustomMappingTransformer<TSrc, TDst>(mapAction, contractName);
            transformer.GetOutputSchema(input.Schema);
            return transformer;
        }

        /// <inheritdoc/>
        public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        {
            ArgumentNullException.ThrowIfNull(inputSchema);
            DataClassBinding.CheckWritable<TSrc>(inputSchema);
            return inputSchema.WithColumns(DataClassMember.Of(typeof(TDst)).Where(member => member.CanRead)
                .Select(member => SchemaShape.Column.FromType(member.ColumnName, member.ColumnType)));
        }
    }

    /// <summary>The transformer of <see cref="CustomMappingEstimator{TSrc, TDst}"/>: runs the action lazily, once per row, when an output column is read.</summary>
    public sealed class CustomMappingTransformer<TSrc, TDst> : ITransformer, ICanSaveModel
        where TSrc : class, new()
        where TDst : class, new()
    {
        private readonly Action<TSrc, TDst> mapAction;

        /// <summary>Creates the transformer; see <see cref="CustomMappingEstimator{TSrc, TDst}"/>.</summary>
        public CustomMappingTransformer(Action<TSrc, TDst> mapAction, string? contractName)
        {
            ArgumentNullException.ThrowIfNull(mapAction);
            this.mapAction = mapAction;
            ContractName = contractName;
        }

        /// <summary>The name the mapping is saved under; null if it cannot be saved.</summary>
        public string? ContractName { get; }

        /// <inheritdoc/>
        public bool IsRowToRowMapper => true;

        /// <inheritdoc/>
        public string Kind => CustomMappingKind.Name;

        /// <inheritdoc/>
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
        {
            ArgumentNullException.ThrowIfNull(inputSchema);
            return RowMappedDataView.CreateSchema(inputSchema, new Mapper(mapAction, inputSchema).OutputColumns);
        }

        /// <inheritdoc/>
        public IDataView Transform(IDataView input)
        {
            ArgumentNullException.ThrowIfNull(input);
            return new RowMappedDataView(input, new Mapper(mapAction, input.Schema));
        }

        /// <inheritdoc/>
        /// <exception cref="InvalidOperationException">The transformer has no contract name.</exception>
        public void Save(IModelWriter writer)
        {
            ArgumentNullException.ThrowIfNull(writer);
            if (ContractName is null)
                throw new InvalidOperationException(
                    $"The custom mapping {typeof(TSrc).Name} -> {typeof(TDst).Name} has no contract name, so it cannot be saved: give one to CustomMapping.");
            writer.WriteJson(new CustomMappingKind.Description(ContractName, typeof(TSrc).FullName!, typeof(TDst).FullName!));
        }

        private sealed class Mapper : IRowMapper
        {
            private readonly Action<TSrc, TDst> mapAction;
            private readonly IReadOnlyList<(MemberBinding<TSrc> Binding, DataViewSchema.Column Column)> inputs;
            private readonly IReadOnlyList<MemberBinding<TDst>> outputs;

            public Mapper(Action<TSrc, TDst> mapAction, DataViewSchema inputSchema)
            {
                this.mapAction = mapAction;
                inputs = DataClassBinding.BindWritable<TSrc>(inputSchema, ignoreMissingColumns: false);
                outputs = MemberBinding<TDst>.For(member => member.CanRead);
                InputColumnNames = [.. inputs.Select(input => input.Column.Name)];
                OutputColumns = [.. outputs.Select(output => new DataViewSchema.DetachedColumn(output.Member.ColumnName, output.Member.ColumnType))];
            }

            public IReadOnlyList<string> InputColumnNames { get; }

            public IReadOnlyList<DataViewSchema.DetachedColumn> OutputColumns { get; }

            public Delegate?[] CreateGetters(DataViewRow input, Func<int, bool> isOutputActive)
            {
                var assigners = inputs.Select(pair => pair.Binding.CreateAssigner(input, pair.Column)).ToArray();
                var computedPosition = -1L;
                TDst? current = null;
                TDst Current()
                {
                    // The action runs at most once per row, and only when an output column is read.
                    if (input.Position != computedPosition || current is null)
                    {
                        if (input.Position < 0) throw new InvalidOperationException("The cursor is not on a row: call MoveNext first.");
                        var source = new TSrc();
                        foreach (var assign in assigners) assign(source);
                        var destination = new TDst();
                        mapAction(source, destination);
                        current = destination;
                        computedPosition = input.Position;
                    }

                    return current;
                }

                return [.. outputs.Select((output, index) => isOutputActive(index) ? output.CreateGetter(Current, output.Member.ColumnName) : null)];
            }
        }
    }

    /// <summary>
    /// The mapping a saved custom-mapping transformer is rebuilt from: give one per contract name to
    /// <c>context.Model.Load</c>. The explicit replacement for ML.NET's attribute-registered <c>CustomMappingFactory</c>.
    /// </summary>
    public abstract class CustomMappingFactory
    {
        private protected CustomMappingFactory(string contractName, Type inputType, Type outputType)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(contractName);
            ContractName = contractName;
            InputType = inputType;
            OutputType = outputType;
        }

        /// <summary>The contract name the mapping was saved under.</summary>
        public string ContractName { get; }

        /// <summary>The input class.</summary>
        public Type InputType { get; }

        /// <summary>The output class.</summary>
        public Type OutputType { get; }

        internal abstract ITransformer CreateTransformer();
    }

    /// <summary>The mapping of contract <see cref="CustomMappingFactory.ContractName"/> from <typeparamref name="TSrc"/> to <typeparamref name="TDst"/>.</summary>
    public sealed class CustomMappingFactory<TSrc, TDst> : CustomMappingFactory
        where TSrc : class, new()
        where TDst : class, new()
    {
        private readonly Action<TSrc, TDst> mapAction;

        /// <summary>Creates the factory of contract <paramref name="contractName"/>.</summary>
        public CustomMappingFactory(string contractName, Action<TSrc, TDst> mapAction)
            : base(contractName, typeof(TSrc), typeof(TDst))
        {
            ArgumentNullException.ThrowIfNull(mapAction);
            this.mapAction = mapAction;
        }

        internal override ITransformer CreateTransformer() => new CustomMappingTransformer<TSrc, TDst>(mapAction, ContractName);
    }

    /// <summary>The saved form of custom-mapping transformers, and their loader.</summary>
    internal static class CustomMappingKind
    {
        public const string Name = "CustomMapping";

        public static ITransformer Load(IModelReader reader)
        {
            var description = reader.ReadJson<Description>();
            if (!reader.CustomMappings.TryGetValue(description.ContractName, out var factory))
                throw new InvalidOperationException(
                    $"The model uses the custom mapping '{description.ContractName}' ({description.InputType} -> {description.OutputType}); " +
                    "pass a CustomMappingFactory of that contract name to Load.");
            if (factory.InputType.FullName != description.InputType || factory.OutputType.FullName != description.OutputType)
                throw new InvalidOperationException(
                    $"The custom mapping '{description.ContractName}' was saved from {description.InputType} to {description.OutputType}, " +
                    $"but the factory given maps {factory.InputType.FullName} to {factory.OutputType.FullName}.");
            return factory.CreateTransformer();
        }

        public sealed record Description(string ContractName, string InputType, string OutputType);
    }
}

namespace Pipelines
{
    /// <summary>The <see cref="TransformsCatalog"/> entry of <see cref="CustomMappingEstimator{TSrc, TDst}"/>.</summary>
    public static class CustomMappingCatalogExtensions
    {
        /// <summary>Adds the columns of <typeparamref name="TDst"/>, computed by <paramref name="mapAction"/> from those of <typeparamref name="TSrc"/>.</summary>
        /// <param name="catalog">The catalog.</param>
        /// <param name="mapAction">Fills the output object from the input object; must be thread-safe and depend on its arguments only.</param>
        /// <param name="contractName">The name the mapping is saved under; null if it will not be saved.</param>
        public static CustomMappingEstimator<TSrc, TDst> CustomMapping<TSrc, TDst>(this TransformsCatalog catalog, Action<TSrc, TDst> mapAction, string? contractName)
            where TSrc : class, new()
            where TDst : class, new()
        {
            ArgumentNullException.ThrowIfNull(catalog);
            return new CustomMappingEstimator<TSrc, TDst>(mapAction, contractName);
        }
    }
}
