using System.Reflection;

namespace Pipelines.Data;

/// <summary>Getters whose value type is known only at run time (from a column's <see cref="DataViewType.RawType"/>).</summary>
internal static class RowGetters
{
    private static readonly MethodInfo GetGetterMethod =
        typeof(DataViewRow).GetMethod(nameof(DataViewRow.GetGetter))!;

    /// <summary><c>row.GetGetter&lt;RawType&gt;(column)</c>, as a <see cref="Delegate"/>.</summary>
    public static Delegate GetGetter(DataViewRow row, DataViewSchema.Column column)
    {
        try
        {
            return (Delegate)GetGetterMethod.MakeGenericMethod(column.Type.RawType).Invoke(row, [column])!;
        }
        catch (TargetInvocationException exception) when (exception.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(exception.InnerException);
            throw;
        }
    }
}
