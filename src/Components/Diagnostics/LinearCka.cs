using MathNet.Numerics.LinearAlgebra;

namespace Pipelines.Components.Diagnostics;

/// <summary>Linear centred kernel alignment between two representations of the same examples, and its PCA-projected variant.</summary>
/// <remarks>
/// Kornblith et al., "Similarity of Neural Network Representations Revisited", arXiv 1905.00414:
/// <c>CKA(X, Y) = ||YᵀX||_F² / (||XᵀX||_F · ||YᵀY||_F)</c> with the columns of X [n, p] and Y [n, q] centred.
/// It is 1 for X against itself, invariant to orthogonal transforms and isotropic scaling of either side.
/// The diagnose-first paper (arXiv 2511.00797) compares a layer before and after fine-tuning in one shared basis:
/// <c>dCKA = 1 - CKA(Hpre P, Hpost P)</c>, P the top-k principal directions of the centred Hpre. Linear algebra in
/// double precision through MathNet.Numerics.
/// </remarks>
public static class LinearCka
{
    /// <summary>Linear CKA of <paramref name="x"/> [n, p] and <paramref name="y"/> [n, q] (row-major; columns centred here).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    /// <returns>CKA in [0, 1]; 0 when either side is constant (zero after centring).</returns>
    public static double Compute(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int rows, int xColumns, int yColumns) =>
        Compute(ToMatrix(x, rows, xColumns, nameof(x)), ToMatrix(y, rows, yColumns, nameof(y)));

    /// <summary>Linear CKA of two matrices with the same number of rows (columns centred here).</summary>
    /// <exception cref="ArgumentException">The row counts differ.</exception>
    public static double Compute(Matrix<double> x, Matrix<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.RowCount != y.RowCount)
            throw new ArgumentException($"Both representations need the same examples: x has {x.RowCount} rows, y has {y.RowCount}.", nameof(y));
        var centredX = Centre(x);
        var centredY = Centre(y);
        var cross = centredY.TransposeThisAndMultiply(centredX).FrobeniusNorm();
        var selfX = centredX.TransposeThisAndMultiply(centredX).FrobeniusNorm();
        var selfY = centredY.TransposeThisAndMultiply(centredY).FrobeniusNorm();
        return selfX == 0 || selfY == 0 ? 0 : cross * cross / (selfX * selfY);
    }

    /// <summary>The top <paramref name="components"/> principal directions of <paramref name="x"/> [n, p] (columns centred), as a [p, k] matrix.</summary>
    /// <remarks>The top right singular vectors of the centred X, found as the top eigenvectors of XᵀX (memory O(p²), not O(n²)).</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="components"/> is below 1 or above min(n, p).</exception>
    public static Matrix<double> PrincipalBasis(Matrix<double> x, int components)
    {
        ArgumentNullException.ThrowIfNull(x);
        var limit = Math.Min(x.RowCount, x.ColumnCount);
        if (components < 1 || components > limit)
            throw new ArgumentOutOfRangeException(nameof(components), components, $"Between 1 and min(rows, columns) = {limit}.");
        // The right singular vectors of the centred X are the eigenvectors of its p x p Gram matrix XᵀX, in the same order;
        // decomposing the Gram matrix avoids the n x n left vectors a full SVD of X would build (n = every token measured).
        var centred = Centre(x);
        var svd = centred.TransposeThisAndMultiply(centred).Svd(computeVectors: true);
        return svd.VT.SubMatrix(0, components, 0, x.ColumnCount).Transpose();
    }

    /// <summary><c>1 - CKA(before P, after P)</c>, P the top-k principal directions of <paramref name="before"/>.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="components"/> is below 1 or above min(n, p).</exception>
    public static double Delta(Matrix<double> before, Matrix<double> after, int components)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (before.RowCount != after.RowCount || before.ColumnCount != after.ColumnCount)
            throw new ArgumentException($"Shapes differ: before is {before.RowCount}x{before.ColumnCount}, after is {after.RowCount}x{after.ColumnCount}.", nameof(after));
        var basis = PrincipalBasis(before, components);
        return 1 - Compute(before * basis, after * basis);
    }

    /// <summary>A row-major float span [rows, columns] as a double matrix.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    /// <exception cref="ArgumentException">The span's length is not rows × columns.</exception>
    public static Matrix<double> ToMatrix(ReadOnlySpan<float> values, int rows, int columns, string name = "values")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (values.Length != (long)rows * columns)
            throw new ArgumentException($"Expected {(long)rows * columns} values for [{rows}, {columns}], got {values.Length}.", name);
        var matrix = Matrix<double>.Build.Dense(rows, columns);
        for (var row = 0; row < rows; row++)
        {
            for (var column = 0; column < columns; column++) matrix[row, column] = values[row * columns + column];
        }

        return matrix;
    }

    private static Matrix<double> Centre(Matrix<double> matrix)
    {
        var centred = matrix.Clone();
        for (var column = 0; column < matrix.ColumnCount; column++)
        {
            var mean = matrix.Column(column).Average();
            for (var row = 0; row < matrix.RowCount; row++) centred[row, column] -= mean;
        }

        return centred;
    }
}
