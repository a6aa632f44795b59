using MathNet.Numerics.LinearAlgebra;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Pipelines.Components.Diagnostics;
using Pipelines.Components.Tests.Support;

namespace Pipelines.Components.Tests.Diagnostics;

[TestClass]
public sealed class LinearCkaTests
{
    [TestMethod]
    public void MatchesTheCentredGramFormulaOnRandomMatrices()
    {
        for (var seed = 0; seed < 5; seed++)
        {
            var (rows, xColumns, yColumns) = (7 + seed, 3 + seed % 3, 5);
            var x = GradientCheck.RandomArray(rows * xColumns, seed);
            var y = GradientCheck.RandomArray(rows * yColumns, 100 + seed);
            Assert.AreEqual(BruteForce(x, y, rows, xColumns, yColumns), LinearCka.Compute(x, y, rows, xColumns, yColumns), 1e-9, $"seed {seed}");
        }
    }

    [TestMethod]
    public void IsOneForAMatrixAgainstItselfAndInvariantToRotationAndScale()
    {
        var x = LinearCka.ToMatrix(GradientCheck.RandomArray(40, 3), 10, 4);
        var y = LinearCka.ToMatrix(GradientCheck.RandomArray(30, 4), 10, 3);
        Assert.AreEqual(1.0, LinearCka.Compute(x, x), 1e-12);
        var rotation = LinearCka.ToMatrix(GradientCheck.RandomArray(16, 5), 4, 4).QR().Q; // orthogonal
        var expected = LinearCka.Compute(x, y);
        Assert.AreEqual(expected, LinearCka.Compute(x * rotation, y), 1e-12, "orthogonal transform");
        Assert.AreEqual(expected, LinearCka.Compute(x * 3.5, y * 0.2), 1e-12, "isotropic scaling");
        Assert.AreEqual(1.0, LinearCka.Compute(x, x * rotation * 2.0), 1e-12);
        Assert.IsTrue(expected < 0.99, $"unrelated random matrices should not align perfectly ({expected})");
    }

    [TestMethod]
    public void DeltaIsZeroForIdenticalRepresentationsAndUsesTheSharedBasis()
    {
        var before = LinearCka.ToMatrix(GradientCheck.RandomArray(60, 6), 12, 5);
        Assert.AreEqual(0.0, LinearCka.Delta(before, before, 3), 1e-12);
        var after = LinearCka.ToMatrix(GradientCheck.RandomArray(60, 7), 12, 5);
        var basis = LinearCka.PrincipalBasis(before, 3);
        Assert.AreEqual(1 - LinearCka.Compute(before * basis, after * basis), LinearCka.Delta(before, after, 3), 1e-12);
        // The basis is orthonormal and spans the top principal directions: it captures more variance than any coordinate 3-subspace would need to.
        var gram = basis.TransposeThisAndMultiply(basis);
        Assert.IsTrue((gram - Matrix<double>.Build.DenseIdentity(3)).FrobeniusNorm() < 1e-10, "orthonormal basis");
        var bad = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LinearCka.Delta(before, after, 6));
        Assert.AreEqual("components", bad.ParamName);
    }

    [TestMethod]
    public void PrincipalBasisSpansTheTopRightSingularVectorsOfTheCentredMatrix()
    {
        var x = LinearCka.ToMatrix(GradientCheck.RandomArray(30 * 6, 11, scale: 1f), 30, 6);
        var centred = x.Clone();
        for (var column = 0; column < 6; column++)
        {
            var mean = x.Column(column).Average();
            for (var row = 0; row < 30; row++) centred[row, column] -= mean;
        }

        var reference = centred.Svd(computeVectors: true).VT.SubMatrix(0, 3, 0, 6).Transpose();
        var basis = LinearCka.PrincipalBasis(x, 3);
        // Same subspace: the projections P Pᵀ agree (columns may differ in sign).
        Assert.IsTrue((basis * basis.Transpose() - reference * reference.Transpose()).FrobeniusNorm() < 1e-9, "the same principal subspace as the SVD of X");
    }

    [TestMethod]
    public void PrincipalBasisFindsTheDominantDirection()
    {
        // Points spread along (1, 1, 0)/√2 with small noise: the first principal direction is that axis (up to sign).
        var noise = GradientCheck.RandomArray(60, 9, scale: 0.01f);
        var values = new float[60];
        for (var row = 0; row < 20; row++)
        {
            var t = row - 9.5f;
            values[row * 3] = t + noise[row * 3];
            values[row * 3 + 1] = t + noise[row * 3 + 1];
            values[row * 3 + 2] = noise[row * 3 + 2];
        }

        var direction = LinearCka.PrincipalBasis(LinearCka.ToMatrix(values, 20, 3), 1).Column(0);
        Assert.AreEqual(1.0, Math.Abs(direction[0] + direction[1]) / Math.Sqrt(2), 1e-4);
    }

    /// <summary>tr(K H L H) / sqrt(tr(K H K H) tr(L H L H)), K = X Xᵀ, L = Y Yᵀ, H = I - 11ᵀ/n, in plain loops.</summary>
    private static double BruteForce(float[] x, float[] y, int rows, int xColumns, int yColumns)
    {
        double[,] Gram(float[] values, int columns)
        {
            var gram = new double[rows, rows];
            for (var i = 0; i < rows; i++)
            {
                for (var j = 0; j < rows; j++)
                {
                    for (var c = 0; c < columns; c++) gram[i, j] += (double)values[i * columns + c] * values[j * columns + c];
                }
            }

            var centred = new double[rows, rows];
            for (var i = 0; i < rows; i++)
            {
                for (var j = 0; j < rows; j++)
                {
                    double sum = 0;
                    for (var a = 0; a < rows; a++)
                    {
                        for (var b = 0; b < rows; b++) sum += Centring(i, a) * gram[a, b] * Centring(b, j);
                    }

                    centred[i, j] = sum;
                }
            }

            return centred;
        }

        double Centring(int i, int j) => (i == j ? 1.0 : 0.0) - 1.0 / rows;

        double Trace(double[,] first, double[,] second)
        {
            double sum = 0;
            for (var i = 0; i < rows; i++)
            {
                for (var j = 0; j < rows; j++) sum += first[i, j] * second[j, i];
            }

            return sum;
        }

        var k = Gram(x, xColumns);
        var l = Gram(y, yColumns);
        return Trace(k, l) / Math.Sqrt(Trace(k, k) * Trace(l, l));
    }
}
