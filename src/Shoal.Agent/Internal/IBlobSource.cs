using Shoal.Core.Store;

namespace Shoal.Agent.Internal;

/// <summary>
/// Where the agent gets blobs it does not have: the origins over HTTP today, the peer-to-peer
/// swarm next. The agent's cache decides <em>when</em> to download (once per blob, however many
/// requests wait); a source decides <em>how</em>.
/// </summary>
/// <remarks>
/// Failures are exceptions: an unreachable or failing upstream (<see cref="HttpRequestException"/>,
/// <see cref="Shoal.Clients.ServiceException"/>, a timeout) and corrupt content
/// (<see cref="Shoal.Core.DigestMismatchException"/>, <see cref="InvalidDataException"/>) both mean
/// "unavailable", never "absent".
/// </remarks>
internal interface IBlobSource
{
    /// <summary>The blob's length without downloading it, or null when no upstream has it.</summary>
    Task<long?> StatAsync(BlobRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Downloads the blob into <paramref name="store"/>, through <see cref="BlobStore.CreateWriter"/> or
    /// <see cref="BlobStore.CommitFileAsync"/> so the store verifies the digest before the blob becomes
    /// visible. Returns null when no upstream has the blob.
    /// </summary>
    Task<BlobCommitResult?> DownloadAsync(BlobRequest request, BlobStore store, CancellationToken cancellationToken);
}
