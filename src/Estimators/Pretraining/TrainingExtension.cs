using Pipelines.Components.Backends;
using Pipelines.Components.Tensors;
using Pipelines.Components.Optimization;
using Pipelines.Components.Training;

namespace Pipelines.Pretraining;

/// <summary>
/// How another estimator takes part in a pre-training run (sparse pre-training adds its pruning hook this way): given
/// the model, its parameters as a managed arena and the number of steps, it returns the optimizer chain to use (usually
/// wrapping <paramref name="optimizer"/>) and the training hooks to add.
/// </summary>
/// <param name="model">The model behind the backend boundary.</param>
/// <param name="parameters">
/// The managed engine's live weights when <paramref name="model"/> is a <see cref="ManagedLanguageModel"/>; otherwise an arena
/// with the model's names and shapes only, for hooks whose device part copies the weights in when it needs them.
/// </param>
/// <param name="steps">The run's length.</param>
/// <param name="optimizer">The run's optimizer chain.</param>
internal delegate (IGradientTransform Optimizer, IReadOnlyList<ITrainingHook> Hooks) TrainingExtension(IBackendLanguageModel model, ParameterArena parameters, long steps, IGradientTransform optimizer);
