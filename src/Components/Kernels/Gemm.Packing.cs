using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Pipelines.Components.Kernels;

public static partial class Gemm
{
    /// <summary>
    /// Packs rows [row0, row0 + rows) × depths [depth0, depth0 + depth) of op(A) into panels of
    /// <paramref name="width"/> rows: panel p holds, for each depth d, the <paramref name="width"/> values
    /// op(A)[row, d] side by side (rows past the end are zero).
    /// </summary>
    private static unsafe void PackA(in Problem problem, int row0, int rows, int depth0, int depth, float* destination, int width)
    {
        for (var panel = 0; panel < rows; panel += width)
        {
            var panelRows = Math.Min(width, rows - panel);
            var target = destination + (long)panel * depth;
            if (problem.TransposeA)
                PackCopy(problem.A + (long)depth0 * problem.LeadingA + row0 + panel, problem.LeadingA, depth, panelRows, target, width);
            else if (problem.Kernel == MicroKernel.Vector512)
                PackTranspose512(problem.A + (long)(row0 + panel) * problem.LeadingA + depth0, problem.LeadingA, depth, panelRows, target, width);
            else
                PackTranspose(problem.A + (long)(row0 + panel) * problem.LeadingA + depth0, problem.LeadingA, depth, panelRows, target, width);
        }
    }

    /// <summary>
    /// Packs depths [depth0, depth0 + depth) × columns [column0, column0 + columns) of op(B) into panels of
    /// <paramref name="width"/> columns: for each depth d, the <paramref name="width"/> values op(B)[d, column]
    /// side by side (columns past the end are zero).
    /// </summary>
    private static unsafe void PackB(in Problem problem, int depth0, int depth, int column0, int columns, float* destination, int width)
    {
        for (var panel = 0; panel < columns; panel += width)
        {
            var panelColumns = Math.Min(width, columns - panel);
            var target = destination + (long)panel * depth;
            if (problem.TransposeB && problem.Kernel == MicroKernel.Vector512)
                PackTranspose512(problem.B + (long)(column0 + panel) * problem.LeadingB + depth0, problem.LeadingB, depth, panelColumns, target, width);
            else if (problem.TransposeB)
                PackTranspose(problem.B + (long)(column0 + panel) * problem.LeadingB + depth0, problem.LeadingB, depth, panelColumns, target, width);
            else
                PackCopy(problem.B + (long)depth0 * problem.LeadingB + column0 + panel, problem.LeadingB, depth, panelColumns, target, width);
        }
    }

    /// <summary>destination[d·width + i] = source[d·leading + i] for i &lt; count, 0 for count ≤ i &lt; width.</summary>
    private static unsafe void PackCopy(float* source, int leading, int depth, int count, float* destination, int width)
    {
        if (count == width && width == 32)
        {
            for (var d = 0; d < depth; d++, source += leading, destination += 32)
            {
                Vector512.Store(Vector512.Load(source), destination);
                Vector512.Store(Vector512.Load(source + 16), destination + 16);
            }

            return;
        }

        if (count == width && width == 12)
        {
            for (var d = 0; d < depth; d++, source += leading, destination += 12)
            {
                Vector256.Store(Vector256.Load(source), destination);
                Vector128.Store(Vector128.Load(source + 8), destination + 8);
            }

            return;
        }

        for (var d = 0; d < depth; d++, source += leading, destination += width)
        {
            var i = 0;
            for (; i < count; i++) destination[i] = source[i];
            for (; i < width; i++) destination[i] = 0;
        }
    }

    /// <summary>destination[d·width + i] = source[i·leading + d] for i &lt; count, 0 for count ≤ i &lt; width.</summary>
    private static unsafe void PackTranspose(float* source, int leading, int depth, int count, float* destination, int width)
    {
        for (var i = 0; i < count; i++)
        {
            var row = source + (long)i * leading;
            var column = destination + i;
            for (var d = 0; d < depth; d++) column[(long)d * width] = row[d];
        }

        for (var i = count; i < width; i++)
        {
            for (var d = 0; d < depth; d++) destination[(long)d * width + i] = 0;
        }
    }

    /// <summary>
    /// One thread's packing buffers, allocated once per thread (pinned, 64-byte aligned) and grown only when a
    /// larger product arrives, so steady-state products allocate nothing.
    /// </summary>
    private sealed unsafe class PackingBuffers
    {
        [ThreadStatic] private static PackingBuffers? current;

        private const int AlignmentFloats = 16;
        private float[] aStorage = [];
        private float[] bStorage = [];
        private float[] tileStorage = [];
        private float[] biasStorage = [];

        public float* A { get; private set; }

        public float* B { get; private set; }

        public float* Tile { get; private set; }

        /// <summary>One n-block's slice of the bias, padded with zeros to whole panels.</summary>
        public float* Bias { get; private set; }

        public static PackingBuffers ForCurrentThread(int aLength, int bLength, int tileLength, int biasLength)
        {
            var buffers = current ??= new PackingBuffers();
            buffers.A = Ensure(ref buffers.aStorage, aLength, buffers.A);
            buffers.B = Ensure(ref buffers.bStorage, bLength, buffers.B);
            buffers.Tile = Ensure(ref buffers.tileStorage, tileLength, buffers.Tile);
            buffers.Bias = Ensure(ref buffers.biasStorage, biasLength, buffers.Bias);
            return buffers;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float* Ensure(ref float[] storage, int length, float* aligned)
        {
            if (aligned != null && storage.Length >= length + AlignmentFloats) return aligned;
            storage = GC.AllocateArray<float>(length + AlignmentFloats, pinned: true);
            var address = (nint)Unsafe.AsPointer(ref storage[0]);
            return (float*)((address + 63) & ~(nint)63);
        }
    }
}
