namespace Pipelines.Tests.Support;

/// <summary>
/// An <see cref="IProgress{T}"/> that calls <paramref name="report"/> on the reporting thread, before the report returns
/// (unlike <see cref="Progress{T}"/>, which posts to a synchronisation context), so a test sees every report in order.
/// Compiled into both test projects (linked from tests/Components/Support).
/// </summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
