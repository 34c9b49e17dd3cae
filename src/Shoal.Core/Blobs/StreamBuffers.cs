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

    /// <summary>
    /// 1 MiB: the most one write of a blob response takes from its source. Each write waits for the
    /// server to hand the one before to the socket (a wake-up on a busy node), so a reader that is
    /// behind moves megabytes in a few writes, not dozens: an agent's reader when the last piece of
    /// a download completes the blob (that piece often completes megabytes of bytes at once), or any
    /// server sending a stored blob. Pieces arriving one by one still leave one by one.
    /// </summary>
    public const int ResponseChunkSize = 1024 * 1024;
}
