using System.Collections.Frozen;
using Pipelines.Transforms;

namespace Pipelines.Model;

/// <summary>
/// The one table from a transformer kind (as written in <c>model.json</c>) to the function that loads it. Plain code,
/// no reflection: a new saveable transformer adds one line here.
/// </summary>
internal static class ModelKinds
{
    public static FrozenDictionary<string, Func<IModelReader, ITransformer>> Loaders { get; } =
        new Dictionary<string, Func<IModelReader, ITransformer>>(StringComparer.Ordinal)
        {
            [CopyColumnsTransformer.KindName] = CopyColumnsTransformer.Load,
            [CustomMappingKind.Name] = CustomMappingKind.Load,
            [Text.BytePairEncodingTransformer.KindName] = Text.BytePairEncodingTransformer.Load,
            [Pretraining.CausalLanguageModelTransformer.KindName] = Pretraining.CausalLanguageModelTransformer.Load,
            [FineTuning.TextClassificationTransformer.KindName] = FineTuning.TextClassificationTransformer.Load,
            [Sparsity.SparsePretrainingTransformer.KindName] = Sparsity.SparsePretrainingTransformer.Load,
        }.ToFrozenDictionary(StringComparer.Ordinal);
}
