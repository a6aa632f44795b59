namespace Pipelines.Components.Models;

/// <summary>Grow-only activation buffers: allocated for the largest batch seen, reused by every later step.</summary>
internal static class ActivationBuffer
{
    public static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
