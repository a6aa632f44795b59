using System.Reflection;

namespace Pipelines.Data.Mapping;

/// <summary>
/// Conversions between a data-class member's .NET type and its column's raw type: string and text memory, arrays and
/// vector memory. Data entering a column is copied, and so is data leaving it, so neither side sees later changes.
/// </summary>
internal static class RawConversions
{
    /// <summary>A <c>Func&lt;TMember, TRaw&gt;</c> for a member of type <paramref name="memberType"/>.</summary>
    public static Delegate ToRaw(Type memberType)
    {
        if (memberType == typeof(string)) return (Func<string?, ReadOnlyMemory<char>>)(text => text is null ? ReadOnlyMemory<char>.Empty : text.AsMemory());
        if (memberType == typeof(ReadOnlyMemory<char>)) return (Func<ReadOnlyMemory<char>, ReadOnlyMemory<char>>)(text => text.ToArray());
        if (memberType == typeof(string[])) return (Func<string?[]?, ReadOnlyMemory<ReadOnlyMemory<char>>>)(texts =>
            texts is null ? ReadOnlyMemory<ReadOnlyMemory<char>>.Empty : texts.Select(text => (text ?? "").AsMemory()).ToArray());
        if (memberType.IsArray) return Generic(nameof(ArrayToMemory), memberType.GetElementType()!);
        return Generic(nameof(Identity), memberType);
    }

    /// <summary>A <c>Func&lt;TRaw, TMember&gt;</c> for a member of type <paramref name="memberType"/>.</summary>
    public static Delegate FromRaw(Type memberType)
    {
        if (memberType == typeof(string)) return (Func<ReadOnlyMemory<char>, string>)(text => text.ToString());
        if (memberType == typeof(ReadOnlyMemory<char>)) return (Func<ReadOnlyMemory<char>, ReadOnlyMemory<char>>)(text => text.ToArray());
        if (memberType == typeof(string[])) return (Func<ReadOnlyMemory<ReadOnlyMemory<char>>, string[]>)(texts =>
        {
            var result = new string[texts.Length];
            for (var index = 0; index < result.Length; index++) result[index] = texts.Span[index].ToString();
            return result;
        });
        if (memberType.IsArray) return Generic(nameof(MemoryToArray), memberType.GetElementType()!);
        return Generic(nameof(Identity), memberType);
    }

    private static Delegate Generic(string methodName, Type typeArgument) =>
        (Delegate)typeof(RawConversions).GetMethod(methodName, BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(typeArgument).Invoke(null, null)!;

    private static Func<T, T> Identity<T>() => value => value;

    private static Func<T[]?, ReadOnlyMemory<T>> ArrayToMemory<T>() => array => array is null ? ReadOnlyMemory<T>.Empty : array.AsSpan().ToArray();

    private static Func<ReadOnlyMemory<T>, T[]> MemoryToArray<T>() => memory => memory.ToArray();
}
