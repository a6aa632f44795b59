namespace Pipelines;

/// <summary>An output column computed from an input column, as ML.NET's <c>InputOutputColumnPair</c>.</summary>
public sealed record InputOutputColumnPair
{
    /// <summary>Creates a pair; with no input name, the input column has the output's name.</summary>
    /// <exception cref="ArgumentException">A name is empty or white space.</exception>
    public InputOutputColumnPair(string outputColumnName, string? inputColumnName = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        if (inputColumnName is not null) ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
    }

    /// <summary>The column produced.</summary>
    public string OutputColumnName { get; }

    /// <summary>The column read.</summary>
    public string InputColumnName { get; }
}
