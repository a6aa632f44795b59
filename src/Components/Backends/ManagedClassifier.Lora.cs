using Pipelines.Components.Lora;
using Pipelines.Components.Compute;
using Pipelines.Components.Optimization;
using Pipelines.Components.Privacy;
using Pipelines.Components.Training;

namespace Pipelines.Components.Backends;

public sealed partial class ManagedClassifier
{
    /// <summary>The LoRA adapter of the last adapted training run, merged into <see cref="Parameters"/>; null after full fine-tuning or loading.</summary>
    public LoraAdapter? Adapter { get; private set; }

    /// <summary>
    /// Trains the adapters of <paramref name="plan"/> and the classification head on the frozen encoder, then merges the
    /// adapter into the weights (<c>W = W0 + scale·B A</c>), so predictions and saved models need nothing else.
    /// </summary>
    private ClassifierTrainingResult TrainAdapter(ClassifierTrainingRun run, LoraInjectionPlan plan) =>
        WithAdapter(run, plan, (lora, adapter) =>
        {
            lora.TruncateBackward = true; // nothing in this loop reads activation gradients below the lowest adapted layer
            var hook = new LoraTrainingHook(adapter, run.Optimizer);
            var baseUpdate = new AdaptedBaseUpdate(run.Optimizer, plan.ToJson(), model.IsTrainable);
            return new ClassifierTrainer(model, new GradientTransformOptimizer(baseUpdate, model.Parameters, model.Parallelism), run.Options, [.. run.Hooks, hook])
                .Train(run.Training, run.Validation, run.Progress, run.ResumeFrom, run.CancellationToken, run.ExampleWeights);
        });

    /// <summary>
    /// Private LoRA: DP-SGD over the adapters of <paramref name="plan"/> and the classification head (every example's
    /// norm covers both, both get the noise), then the adapter is merged as in <see cref="TrainAdapter"/>.
    /// </summary>
    private PrivateClassifierTrainingResult TrainAdapterPrivately(ClassifierTrainingRun run, LoraInjectionPlan plan, DifferentialPrivacy privacy) =>
        WithAdapter(run, plan, (_, adapter) =>
            new PrivateClassifierTrainer(model, run.Optimizer, run.Options, privacy) { Adapter = adapter }
                .Train(run.Training, run.Validation, run.Progress, run.ResumeFrom, run.CancellationToken));

    /// <summary>Attaches a fresh adapter of <paramref name="plan"/> (the head stays trainable), trains it, merges it into the weights and keeps it as <see cref="Adapter"/>; detaches it whatever happens.</summary>
    private T WithAdapter<T>(ClassifierTrainingRun run, LoraInjectionPlan plan, Func<LoraModel, LoraAdapter, T> train)
    {
        var lora = new LoraModel(model, trainableBase: slice => slice.Name.StartsWith(PretrainedEncoderBody.HeadPrefix, StringComparison.Ordinal));
        var adapter = lora.Add("adaptation", plan, SeededRandom.ForStream(run.Options.Seed, 2).NextUInt64());
        try
        {
            var result = train(lora, adapter);
            adapter.Training = false;
            lora.Merge();
            Adapter = adapter;
            return result;
        }
        finally
        {
            lora.Detach();
        }
    }
}
