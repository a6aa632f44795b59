using Pipelines.Components.Tensors;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Pretraining;

/// <summary>
/// How another estimator takes part in a pre-training run (sparse pre-training adds its pruning hook this way): given
/// the managed model's parameters and the number of steps, it returns the optimizer chain to use (usually wrapping
/// <paramref name="optimizer"/>) and the training hooks to add.
/// </summary>
internal delegate (IGradientTransform Optimizer, IReadOnlyList<ITrainingHook> Hooks) TrainingExtension(ParameterArena parameters, long steps, IGradientTransform optimizer);
