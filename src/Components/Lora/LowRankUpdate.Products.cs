using System.Numerics;
using Pipelines.Components.Compute;

namespace Pipelines.Components.Lora;

// The skinny products of LowRankUpdate as register-blocked vector loops. Every element of a result is computed by one
// chunk in one fixed order whatever the chunking, so results do not depend on the thread count.
public static partial class LowRankUpdate
{
    private const int RowChunk = 32;   // rows per chunk at least: a chunk below this costs more to schedule than to run
    private const int ColumnChunk = 64; // result columns per chunk at least

    private readonly record struct Operands(nint Left, nint Right, nint Result, int Inner, int Rank, int Width, float Scale);

    // result[n, c] = scale · Σ_i left[n, i] · right[c, i]; left [N, K], right [r, K], result [N, r] (overwritten).
    private static unsafe void RowDots(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> result, int rows, int inner, int rank, float scale, Parallelism parallelism)
    {
        fixed (float* leftPointer = left, rightPointer = right, resultPointer = result)
        {
            parallelism.For(rows, new Operands((nint)leftPointer, (nint)rightPointer, (nint)resultPointer, inner, rank, 0, scale),
                static (operands, start, end) => RowDotsRange(operands, start, end), RowChunk);
        }
    }

    private static unsafe void RowDotsRange(Operands operands, int start, int end)
    {
        var (inner, rank, scale) = (operands.Inner, operands.Rank, operands.Scale);
        var width = Vector<float>.Count;
        var row = start;
        for (; row + 2 <= end; row += 2)
        {
            // Two rows by four components: eight independent FMA chains; each element summed as the one-row loop below sums it.
            var x = (float*)operands.Left + (long)row * inner;
            var y = x + inner;
            var output = (float*)operands.Result + (long)row * rank;
            var component = 0;
            for (; component + 4 <= rank; component += 4)
            {
                var a0 = (float*)operands.Right + (long)component * inner;
                float* a1 = a0 + inner, a2 = a0 + 2 * inner, a3 = a0 + 3 * inner;
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default, t0 = default, t1 = default, t2 = default, t3 = default;
                var index = 0;
                for (; index + width <= inner; index += width)
                {
                    var (value, other) = (Vector.Load(x + index), Vector.Load(y + index));
                    var (b0, b1, b2, b3) = (Vector.Load(a0 + index), Vector.Load(a1 + index), Vector.Load(a2 + index), Vector.Load(a3 + index));
                    s0 = Vector.FusedMultiplyAdd(value, b0, s0);
                    s1 = Vector.FusedMultiplyAdd(value, b1, s1);
                    s2 = Vector.FusedMultiplyAdd(value, b2, s2);
                    s3 = Vector.FusedMultiplyAdd(value, b3, s3);
                    t0 = Vector.FusedMultiplyAdd(other, b0, t0);
                    t1 = Vector.FusedMultiplyAdd(other, b1, t1);
                    t2 = Vector.FusedMultiplyAdd(other, b2, t2);
                    t3 = Vector.FusedMultiplyAdd(other, b3, t3);
                }

                float u0 = Vector.Sum(s0), u1 = Vector.Sum(s1), u2 = Vector.Sum(s2), u3 = Vector.Sum(s3);
                float v0 = Vector.Sum(t0), v1 = Vector.Sum(t1), v2 = Vector.Sum(t2), v3 = Vector.Sum(t3);
                for (; index < inner; index++)
                {
                    u0 += x[index] * a0[index];
                    u1 += x[index] * a1[index];
                    u2 += x[index] * a2[index];
                    u3 += x[index] * a3[index];
                    v0 += y[index] * a0[index];
                    v1 += y[index] * a1[index];
                    v2 += y[index] * a2[index];
                    v3 += y[index] * a3[index];
                }

                (output[component], output[component + 1], output[component + 2], output[component + 3]) = (scale * u0, scale * u1, scale * u2, scale * u3);
                (output[rank + component], output[rank + component + 1], output[rank + component + 2], output[rank + component + 3]) = (scale * v0, scale * v1, scale * v2, scale * v3);
            }

            for (; component < rank; component++)
            {
                output[component] = scale * Dot(x, (float*)operands.Right + (long)component * inner, inner);
                output[rank + component] = scale * Dot(y, (float*)operands.Right + (long)component * inner, inner);
            }
        }

        for (; row < end; row++)
        {
            var x = (float*)operands.Left + (long)row * inner;
            var output = (float*)operands.Result + (long)row * rank;
            var component = 0;
            for (; component + 4 <= rank; component += 4)
            {
                var a0 = (float*)operands.Right + (long)component * inner;
                float* a1 = a0 + inner, a2 = a0 + 2 * inner, a3 = a0 + 3 * inner;
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
                var index = 0;
                for (; index + width <= inner; index += width)
                {
                    var value = Vector.Load(x + index);
                    s0 = Vector.FusedMultiplyAdd(value, Vector.Load(a0 + index), s0);
                    s1 = Vector.FusedMultiplyAdd(value, Vector.Load(a1 + index), s1);
                    s2 = Vector.FusedMultiplyAdd(value, Vector.Load(a2 + index), s2);
                    s3 = Vector.FusedMultiplyAdd(value, Vector.Load(a3 + index), s3);
                }

                float t0 = Vector.Sum(s0), t1 = Vector.Sum(s1), t2 = Vector.Sum(s2), t3 = Vector.Sum(s3);
                for (; index < inner; index++)
                {
                    t0 += x[index] * a0[index];
                    t1 += x[index] * a1[index];
                    t2 += x[index] * a2[index];
                    t3 += x[index] * a3[index];
                }

                output[component] = scale * t0;
                output[component + 1] = scale * t1;
                output[component + 2] = scale * t2;
                output[component + 3] = scale * t3;
            }

            for (; component < rank; component++) output[component] = scale * Dot(x, (float*)operands.Right + (long)component * inner, inner);
        }
    }

    private static unsafe float Dot(float* x, float* a, int length)
    {
        var width = Vector<float>.Count;
        Vector<float> sum = default;
        var index = 0;
        for (; index + width <= length; index += width) sum = Vector.FusedMultiplyAdd(Vector.Load(x + index), Vector.Load(a + index), sum);
        var total = Vector.Sum(sum);
        for (; index < length; index++) total += x[index] * a[index];
        return total;
    }

    // result[n, j] += scale · Σ_c coefficients[n, c] · basis[c, j]; coefficients [N, r], basis [r, J], result [N, J] (accumulated).
    private static unsafe void RowCombinations(ReadOnlySpan<float> coefficients, ReadOnlySpan<float> basis, Span<float> result, int rows, int rank, int columns, float scale, Parallelism parallelism)
    {
        fixed (float* coefficientPointer = coefficients, basisPointer = basis, resultPointer = result)
        {
            parallelism.For(rows, new Operands((nint)coefficientPointer, (nint)basisPointer, (nint)resultPointer, 0, rank, columns, scale),
                static (operands, start, end) => RowCombinationsRange(operands, start, end), RowChunk);
        }
    }

    // Two rows by four vectors of columns: eight independent FMA chains, so the loop is not bound by the FMA's latency.
    private static unsafe void RowCombinationsRange(Operands operands, int start, int end)
    {
        var (rank, columns, scale) = (operands.Rank, operands.Width, operands.Scale);
        var basis = (float*)operands.Right;
        var width = Vector<float>.Count;
        var scaleVector = new Vector<float>(scale);
        var row = start;
        for (; row + 2 <= end; row += 2)
        {
            var c0 = (float*)operands.Left + (long)row * rank;
            var c1 = c0 + rank;
            var o0 = (float*)operands.Result + (long)row * columns;
            var o1 = o0 + columns;
            var column = 0;
            for (; column + 4 * width <= columns; column += 4 * width)
            {
                Vector<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
                for (var component = 0; component < rank; component++)
                {
                    var line = basis + (long)component * columns + column;
                    var (b0, b1, b2, b3) = (Vector.Load(line), Vector.Load(line + width), Vector.Load(line + 2 * width), Vector.Load(line + 3 * width));
                    var (w0, w1) = (new Vector<float>(c0[component]), new Vector<float>(c1[component]));
                    s00 = Vector.FusedMultiplyAdd(w0, b0, s00);
                    s01 = Vector.FusedMultiplyAdd(w0, b1, s01);
                    s02 = Vector.FusedMultiplyAdd(w0, b2, s02);
                    s03 = Vector.FusedMultiplyAdd(w0, b3, s03);
                    s10 = Vector.FusedMultiplyAdd(w1, b0, s10);
                    s11 = Vector.FusedMultiplyAdd(w1, b1, s11);
                    s12 = Vector.FusedMultiplyAdd(w1, b2, s12);
                    s13 = Vector.FusedMultiplyAdd(w1, b3, s13);
                }

                AddScaled(o0 + column, scaleVector, s00, s01, s02, s03, width);
                AddScaled(o1 + column, scaleVector, s10, s11, s12, s13, width);
            }

            CombineRowTail(c0, basis, o0, rank, columns, column, scale);
            CombineRowTail(c1, basis, o1, rank, columns, column, scale);
        }

        for (; row < end; row++)
        {
            var c0 = (float*)operands.Left + (long)row * rank;
            var o0 = (float*)operands.Result + (long)row * columns;
            var column = 0;
            for (; column + 4 * width <= columns; column += 4 * width)
            {
                Vector<float> s00 = default, s01 = default, s02 = default, s03 = default;
                for (var component = 0; component < rank; component++)
                {
                    var line = basis + (long)component * columns + column;
                    var w0 = new Vector<float>(c0[component]);
                    s00 = Vector.FusedMultiplyAdd(w0, Vector.Load(line), s00);
                    s01 = Vector.FusedMultiplyAdd(w0, Vector.Load(line + width), s01);
                    s02 = Vector.FusedMultiplyAdd(w0, Vector.Load(line + 2 * width), s02);
                    s03 = Vector.FusedMultiplyAdd(w0, Vector.Load(line + 3 * width), s03);
                }

                AddScaled(o0 + column, scaleVector, s00, s01, s02, s03, width);
            }

            CombineRowTail(c0, basis, o0, rank, columns, column, scale);
        }
    }

    private static unsafe void AddScaled(float* output, Vector<float> scale, Vector<float> s0, Vector<float> s1, Vector<float> s2, Vector<float> s3, int width)
    {
        Vector.FusedMultiplyAdd(scale, s0, Vector.Load(output)).Store(output);
        Vector.FusedMultiplyAdd(scale, s1, Vector.Load(output + width)).Store(output + width);
        Vector.FusedMultiplyAdd(scale, s2, Vector.Load(output + 2 * width)).Store(output + 2 * width);
        Vector.FusedMultiplyAdd(scale, s3, Vector.Load(output + 3 * width)).Store(output + 3 * width);
    }

    // Columns from `column` on, one vector then one element at a time (the same order for a row whichever chunk holds it).
    private static unsafe void CombineRowTail(float* coefficients, float* basis, float* output, int rank, int columns, int column, float scale)
    {
        var width = Vector<float>.Count;
        for (; column + width <= columns; column += width)
        {
            Vector<float> sum = default;
            for (var component = 0; component < rank; component++)
                sum = Vector.FusedMultiplyAdd(new Vector<float>(coefficients[component]), Vector.Load(basis + (long)component * columns + column), sum);
            Vector.FusedMultiplyAdd(new Vector<float>(scale), sum, Vector.Load(output + column)).Store(output + column);
        }

        for (; column < columns; column++)
        {
            var sum = 0f;
            for (var component = 0; component < rank; component++) sum += coefficients[component] * basis[(long)component * columns + column];
            output[column] += scale * sum;
        }
    }

    // result[c, j] = Σ_n left[n, c] · right[n, j]; left [N, r], right [N, J], result [r, J] (overwritten). Chunks split the J columns.
    private static unsafe void ColumnSums(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> result, int rows, int rank, int columns, Parallelism parallelism)
    {
        fixed (float* leftPointer = left, rightPointer = right, resultPointer = result)
        {
            var blocks = (columns + Vector<float>.Count - 1) / Vector<float>.Count;
            parallelism.For(blocks, new Operands((nint)leftPointer, (nint)rightPointer, (nint)resultPointer, rows, rank, columns, 1f),
                static (operands, start, end) => ColumnSumsRange(operands, start * Vector<float>.Count, Math.Min(end * Vector<float>.Count, operands.Width)),
                ColumnChunk / Vector<float>.Count);
        }
    }

    private static unsafe void ColumnSumsRange(Operands operands, int start, int end)
    {
        var (rows, rank, columns) = (operands.Inner, operands.Rank, operands.Width);
        float* left = (float*)operands.Left, right = (float*)operands.Right, result = (float*)operands.Result;
        var width = Vector<float>.Count;
        var component = 0;
        for (; component + 4 <= rank; component += 4)
        {
            var column = start;
            for (; column + 2 * width <= end; column += 2 * width)
            {
                // Two vectors of columns by four components: eight independent FMA chains.
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default, t0 = default, t1 = default, t2 = default, t3 = default;
                for (var row = 0; row < rows; row++)
                {
                    var line = right + (long)row * columns + column;
                    var (value, next) = (Vector.Load(line), Vector.Load(line + width));
                    var weights = left + (long)row * rank + component;
                    var (w0, w1, w2, w3) = (new Vector<float>(weights[0]), new Vector<float>(weights[1]), new Vector<float>(weights[2]), new Vector<float>(weights[3]));
                    s0 = Vector.FusedMultiplyAdd(w0, value, s0);
                    s1 = Vector.FusedMultiplyAdd(w1, value, s1);
                    s2 = Vector.FusedMultiplyAdd(w2, value, s2);
                    s3 = Vector.FusedMultiplyAdd(w3, value, s3);
                    t0 = Vector.FusedMultiplyAdd(w0, next, t0);
                    t1 = Vector.FusedMultiplyAdd(w1, next, t1);
                    t2 = Vector.FusedMultiplyAdd(w2, next, t2);
                    t3 = Vector.FusedMultiplyAdd(w3, next, t3);
                }

                var target = result + (long)component * columns + column;
                s0.Store(target);
                s1.Store(target + columns);
                s2.Store(target + 2 * columns);
                s3.Store(target + 3 * columns);
                t0.Store(target + width);
                t1.Store(target + columns + width);
                t2.Store(target + 2 * columns + width);
                t3.Store(target + 3 * columns + width);
            }

            for (; column + width <= end; column += width)
            {
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (var row = 0; row < rows; row++)
                {
                    var value = Vector.Load(right + (long)row * columns + column);
                    var weights = left + (long)row * rank + component;
                    s0 = Vector.FusedMultiplyAdd(new Vector<float>(weights[0]), value, s0);
                    s1 = Vector.FusedMultiplyAdd(new Vector<float>(weights[1]), value, s1);
                    s2 = Vector.FusedMultiplyAdd(new Vector<float>(weights[2]), value, s2);
                    s3 = Vector.FusedMultiplyAdd(new Vector<float>(weights[3]), value, s3);
                }

                s0.Store(result + (long)component * columns + column);
                s1.Store(result + (long)(component + 1) * columns + column);
                s2.Store(result + (long)(component + 2) * columns + column);
                s3.Store(result + (long)(component + 3) * columns + column);
            }

            for (; column < end; column++)
            for (var offset = 0; offset < 4; offset++)
                result[(long)(component + offset) * columns + column] = ColumnSum(left, right, rows, rank, columns, component + offset, column);
        }

        for (; component < rank; component++)
        {
            var column = start;
            for (; column + width <= end; column += width)
            {
                Vector<float> sum = default;
                for (var row = 0; row < rows; row++)
                    sum = Vector.FusedMultiplyAdd(new Vector<float>(left[(long)row * rank + component]), Vector.Load(right + (long)row * columns + column), sum);
                sum.Store(result + (long)component * columns + column);
            }

            for (; column < end; column++) result[(long)component * columns + column] = ColumnSum(left, right, rows, rank, columns, component, column);
        }
    }

    private static unsafe float ColumnSum(float* left, float* right, int rows, int rank, int columns, int component, int column)
    {
        var sum = 0f;
        for (var row = 0; row < rows; row++) sum += left[(long)row * rank + component] * right[(long)row * columns + column];
        return sum;
    }

    // transposed[c, o] = matrix[o, c]; matrix [rows, columns].
    private static void Transpose(ReadOnlySpan<float> matrix, Span<float> transposed, int rows, int columns)
    {
        for (var row = 0; row < rows; row++)
        for (var column = 0; column < columns; column++)
            transposed[column * rows + row] = matrix[row * columns + column];
    }
}
