namespace Pipelines.Components.Kernels;

/// <summary>The O(1) argument checks every kernel makes at entry, with one wording.</summary>
internal static class KernelGuard
{
    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="name"/> unless its length is exactly <paramref name="expected"/>.</summary>
    /// <param name="actual">The span's length.</param>
    /// <param name="expected">The length the shape arguments imply.</param>
    /// <param name="name">The argument's name.</param>
    /// <param name="formula">How <paramref name="expected"/> follows from the shape, e.g. <c>B*T*C</c> (optional).</param>
    public static void RequireLength(int actual, long expected, string name, string? formula = null)
    {
        if (actual == expected) return;
        var shape = formula is null ? $"{expected}" : $"{formula} = {expected}";
        throw new ArgumentException($"'{name}' has {actual} elements; the shape needs {shape}.", name);
    }
}
