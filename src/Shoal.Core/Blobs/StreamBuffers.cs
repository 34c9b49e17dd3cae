namespace Shoal.Core.Blobs;

/// <summary>Buffer sizes for streaming blob bytes.</summary>
public static class StreamBuffers
{
    /// <summary>
    /// 128 KiB: large enough that a copy costs a few syscalls per MiB and SHA-256 runs on long
    /// spans, small enough to stay out of the large-object heap's worst cases when pooled
    /// (<see cref="System.Buffers.ArrayPool{T}.Shared"/> keeps arrays up to 1 MiB).
    /// </summary>
    public const int CopyBufferSize = 128 * 1024;
}
