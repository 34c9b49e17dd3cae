using Shoal.Core;
using Shoal.Core.Store;

namespace Shoal.Agent.Internal;

/// <summary>A blob ready to be served: its length and how to open a byte range of it.</summary>
/// <param name="Length">The blob's length in bytes.</param>
/// <param name="Open">Opens <c>count</c> bytes from <c>offset</c> (a verified file, or an in-progress download that waits for verified pieces).</param>
internal sealed record BlobContent(long Length, Func<long, long, CancellationToken, Task<Stream>> Open)
{
    /// <summary>A blob served from the verified store.</summary>
    public static BlobContent FromStore(BlobStore store, Digest digest, long length) => new(length, (offset, _, _) =>
    {
        var file = store.OpenRead(digest) ?? throw new IOException($"{digest} left the store while being served");
        file.Seek(offset, SeekOrigin.Begin);
        return Task.FromResult<Stream>(file);
    });
}
