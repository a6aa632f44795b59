using System.Collections;
using System.Globalization;
using System.Reflection;
using Pipelines.Components.Optimization;
using Pipelines.Components.Schedules;

namespace Pipelines.Components.Training;

public sealed partial class RunRecord
{
    private const int MaximumDepth = 12;
    private const int MaximumListLength = 256;

    /// <summary>
    /// The entries that describe <paramref name="optimizer"/>: for a <see cref="GradientTransformOptimizer"/>, its transform
    /// tree with every public property (hyperparameters, nested transforms, schedules), named by path such as
    /// <c>optimizer.Transforms[0].Beta2</c>; for another optimizer, its type.
    /// </summary>
    /// <remarks>
    /// Read from the public properties rather than hand-written per transform, so no hyperparameter can be forgotten.
    /// Entries inside a schedule are of kind <see cref="RunChanges.LearningRateSchedule"/>, the others
    /// <see cref="RunChanges.Optimizer"/>. Functions are recorded as present only; lists longer than 256 and objects
    /// from outside the optimization and schedule namespaces by their type only.
    /// </remarks>
    public static IReadOnlyList<RunRecordEntry> Describe(IOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        var entries = new List<RunRecordEntry>();
        if (optimizer is GradientTransformOptimizer gradientTransform) return Describe(gradientTransform.Transform);
        entries.Add(new("optimizer", RunChanges.Optimizer, optimizer.GetType().FullName ?? optimizer.GetType().Name));
        return entries;
    }

    /// <summary>The entries that describe the transform tree <paramref name="transform"/>, as for a <see cref="GradientTransformOptimizer"/> running it.</summary>
    public static IReadOnlyList<RunRecordEntry> Describe(IGradientTransform transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        var entries = new List<RunRecordEntry>();
        DescribeObject(transform, "optimizer", RunChanges.Optimizer, entries, 0);
        return entries;
    }

    private static void DescribeObject(object value, string path, RunChanges kind, List<RunRecordEntry> entries, int depth)
    {
        if (value is ISchedule) kind = RunChanges.LearningRateSchedule;
        var type = value.GetType();
        entries.Add(new(path, kind, type.Name));
        if (depth >= MaximumDepth || !IsDescribable(type)) return;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(property => property.Name, StringComparer.Ordinal))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is null) continue;
            DescribeValue(property.GetValue(value), $"{path}.{property.Name}", kind, entries, depth + 1);
        }
    }

    private static void DescribeValue(object? value, string path, RunChanges kind, List<RunRecordEntry> entries, int depth)
    {
        switch (value)
        {
            case null:
                entries.Add(new(path, kind, "null"));
                return;
            case Delegate:
                entries.Add(new(path, kind, "(a function; recorded as present only)"));
                return;
            case string text:
                entries.Add(new(path, kind, text));
                return;
            case Enum or bool:
                entries.Add(new(path, kind, value.ToString()!));
                return;
            case double number:
                entries.Add(new(path, kind, number.ToString("R", CultureInfo.InvariantCulture)));
                return;
            case float number:
                entries.Add(new(path, kind, number.ToString("R", CultureInfo.InvariantCulture)));
                return;
            case IFormattable formattable when value.GetType().IsPrimitive:
                entries.Add(new(path, kind, formattable.ToString(null, CultureInfo.InvariantCulture)));
                return;
            case IEnumerable list:
                DescribeList(list, path, kind, entries, depth);
                return;
            default:
                DescribeObject(value, path, kind, entries, depth);
                return;
        }
    }

    private static void DescribeList(IEnumerable list, string path, RunChanges kind, List<RunRecordEntry> entries, int depth)
    {
        var items = list.Cast<object?>().Take(MaximumListLength + 1).ToArray();
        if (items.Length > MaximumListLength)
        {
            entries.Add(new(path, kind, $"{list.GetType().Name} (over {MaximumListLength} items; recorded by type only)"));
            return;
        }

        if (items.All(item => item is IFormattable && item.GetType().IsPrimitive))
        {
            entries.Add(new(path, kind, "[" + string.Join(", ", items.Select(item => ((IFormattable)item!).ToString(item is double or float ? "R" : null, CultureInfo.InvariantCulture))) + "]"));
            return;
        }

        entries.Add(new(path, kind, $"{items.Length} items"));
        for (var index = 0; index < items.Length; index++) DescribeValue(items[index], $"{path}[{index}]", kind, entries, depth + 1);
    }

    /// <summary>Transforms, schedules and the small records they hold are walked; anything else is recorded by type.</summary>
    private static bool IsDescribable(Type type) =>
        typeof(IGradientTransform).IsAssignableFrom(type) || typeof(ISchedule).IsAssignableFrom(type)
        || type.Namespace is "Pipelines.Components.Optimization" or "Pipelines.Components.Schedules";
}
