namespace Pipelines.Components.Kernels;

public static partial class Gemm
{
    /// <summary>
    /// Largest k-block. Longer blocks mean fewer read-modify-write passes over C; the kc×nr panel of packed
    /// B (48 KiB) streams from L2 fast enough that it need not stay in the 48 KiB L1 (measured: 256, 384
    /// and 512 are within noise of each other on Zen 5).
    /// </summary>
    private const int MaximumDepthBlock = 384;

    /// <summary>Largest m-block (a multiple of every kernel's mr): mc×kc of packed A (216 KiB) stays in the 1 MiB L2.</summary>
    private const int MaximumRowBlock = 144;

    /// <summary>Largest n-block: kc×nc of packed B (3 MiB) stays in the shared L3.</summary>
    private const int MaximumColumnBlock = 2048;

    /// <summary>
    /// Computes rows [rowStart, rowEnd) × columns [columnStart, columnEnd) of C on the calling thread:
    /// the five loops around the micro-kernel (nc, kc, mc blocks; nr, mr panels).
    /// </summary>
    private static unsafe void MultiplyRegion(Problem problem, int rowStart, int rowEnd, int columnStart, int columnEnd)
    {
        var (rowTile, columnTile) = TileShape(problem.Kernel);
        var depthBlock = BalancedBlock(problem.K, MaximumDepthBlock);
        var rowBlock = RoundUp(Math.Min(MaximumRowBlock, rowEnd - rowStart), rowTile);
        var columnBlock = RoundUp(Math.Min(MaximumColumnBlock, columnEnd - columnStart), columnTile);
        var buffers = PackingBuffers.ForCurrentThread(
            rowBlock * depthBlock, depthBlock * columnBlock, rowTile * columnTile, problem.Bias == null ? 0 : columnBlock);
        var packedA = buffers.A;
        var packedB = buffers.B;
        var edgeTile = buffers.Tile;
        var paddedBias = buffers.Bias;

        for (var column0 = columnStart; column0 < columnEnd; column0 += columnBlock)
        {
            var columns = Math.Min(columnBlock, columnEnd - column0);
            // Zero-padded to whole panels, so that edge tiles do not read past the bias's end.
            if (problem.Bias != null) CopyPadded(problem.Bias + column0, columns, paddedBias, RoundUp(columns, columnTile));
            for (var depth0 = 0; depth0 < problem.K; depth0 += depthBlock)
            {
                var depth = Math.Min(depthBlock, problem.K - depth0);
                // The first k-block adds beta·C, or beta·bias (beta = 1) as if C held the bias in every row;
                // later k-blocks add to what the first one wrote.
                var beta = depth0 == 0 ? problem.Beta : 1f;
                var addsBias = depth0 == 0 && problem.Bias != null;
                PackB(problem, depth0, depth, column0, columns, packedB, columnTile);
                for (var row0 = rowStart; row0 < rowEnd; row0 += rowBlock)
                {
                    var rows = Math.Min(rowBlock, rowEnd - row0);
                    PackA(problem, row0, rows, depth0, depth, packedA, rowTile);
                    for (var panelColumn = 0; panelColumn < columns; panelColumn += columnTile)
                    {
                        var tileColumns = Math.Min(columnTile, columns - panelColumn);
                        var panelB = packedB + (long)panelColumn * depth;
                        var biasPanel = paddedBias + panelColumn;
                        for (var panelRow = 0; panelRow < rows; panelRow += rowTile)
                        {
                            var tileRows = Math.Min(rowTile, rows - panelRow);
                            var kernelRows = KernelRows(problem.Kernel, tileRows);
                            var panelA = packedA + (long)panelRow * depth;
                            var target = problem.C + (long)(row0 + panelRow) * problem.LeadingC + column0 + panelColumn;
                            if (tileRows == kernelRows && tileColumns == columnTile)
                            {
                                RunMicroKernel(
                                    problem.Kernel, kernelRows, depth, panelA, panelB, target, problem.LeadingC,
                                    addsBias ? biasPanel : target, addsBias ? 0 : problem.LeadingC, problem.Alpha, beta);
                            }
                            else
                            {
                                // Edge tile: the same kernel on a scratch tile, so the arithmetic is identical.
                                CopyTile(target, problem.LeadingC, edgeTile, columnTile, tileRows, tileColumns, beta != 0 && !addsBias);
                                RunMicroKernel(
                                    problem.Kernel, kernelRows, depth, panelA, panelB, edgeTile, columnTile,
                                    addsBias ? biasPanel : edgeTile, addsBias ? 0 : columnTile, problem.Alpha, beta);
                                CopyTile(edgeTile, columnTile, target, problem.LeadingC, tileRows, tileColumns, true);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The k-block size: at most <paramref name="maximum"/>, with all blocks of nearly equal size.</summary>
    private static int BalancedBlock(int extent, int maximum)
    {
        var blocks = (extent + maximum - 1) / maximum;
        return (extent + blocks - 1) / blocks;
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static unsafe void CopyTile(float* source, int sourceLeading, float* destination, int destinationLeading, int rows, int columns, bool needed)
    {
        if (!needed) return;
        for (var row = 0; row < rows; row++)
        {
            new ReadOnlySpan<float>(source + (long)row * sourceLeading, columns)
                .CopyTo(new Span<float>(destination + (long)row * destinationLeading, columns));
        }
    }

    /// <summary>destination[i] = source[i] for i &lt; count, 0 for count ≤ i &lt; length.</summary>
    private static unsafe void CopyPadded(float* source, int count, float* destination, int length)
    {
        new ReadOnlySpan<float>(source, count).CopyTo(new Span<float>(destination, count));
        new Span<float>(destination + count, length - count).Clear();
    }
}
