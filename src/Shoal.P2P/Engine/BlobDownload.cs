using Shoal.Core.Blobs;
using Shoal.Core.Store;

namespace Shoal.P2P.Engine;

/// <summary>
/// A blob being fetched through its swarm. Many callers share one: each may open a stream that
/// returns bytes in order as soon as the pieces under them are verified (a waiting reader moves the
/// swarm's piece choice to its position), and <see cref="Completion"/> ends when the whole blob
/// passed its digest check and is in the store.
/// </summary>
public sealed class BlobDownload
{
    internal const int ReaderGone = -2;
    internal const int ReaderNotWaiting = -1;

    private readonly Swarm _swarm;
    private readonly TaskCompletionSource<BlobCommitResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _verified = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextReader;

    internal BlobDownload(Swarm swarm)
    {
        _swarm = swarm;
        // Nobody may be awaiting a failure: observe it so it never goes unobserved.
        _completion.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _verified.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The blob's metainfo.</summary>
    public MetaInfo MetaInfo => _swarm.Info;

    /// <summary>Pieces verified so far.</summary>
    public int VerifiedPieces => _swarm.File.VerifiedCount;

    /// <summary>Completes when the blob is verified and stored; faults when it cannot be (a digest mismatch, shutdown).</summary>
    public Task<BlobCommitResult> Completion => _completion.Task;

    /// <summary>
    /// Completes when every piece is verified, which (the pieces continuing one SHA-256 chain that ends
    /// in the digest) means the whole blob matched its digest; a moment before <see cref="Completion"/>
    /// (the store making the blob durable). Faults like it.
    /// </summary>
    public Task WholeBlobVerified => _verified.Task;

    /// <summary>True when piece <paramref name="index"/> is verified and readable.</summary>
    public bool HasPiece(int index) => _swarm.File.HasPiece(index);

    /// <summary>
    /// A stream of <paramref name="count"/> bytes from <paramref name="offset"/> that waits for
    /// pieces as it goes. It returns only verified bytes; the read that would deliver the blob's last
    /// byte waits for the whole blob's digest check (<see cref="WholeBlobVerified"/>) and fails with
    /// <see cref="IOException"/> if it fails.
    /// </summary>
    public Stream OpenRead(long offset, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + count, MetaInfo.Length, nameof(count));
        return new DownloadStream(this, Interlocked.Increment(ref _nextReader), offset, count);
    }

    internal Storage.BlobFile File => _swarm.File;

    /// <summary>Completes when something changed (a piece verified, the download ended).</summary>
    internal Task Progress => Volatile.Read(ref _progress).Task;

    internal void ReaderAt(int reader, int piece) => _swarm.Post(new SwarmEvent.Reader(reader, piece));

    internal void Pulse()
    {
        var previous = Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }

    internal void Verified() => _verified.TrySetResult();

    internal void Complete(BlobCommitResult result)
    {
        _verified.TrySetResult();
        _completion.TrySetResult(result);
    }

    internal void Fail(Exception failure)
    {
        _verified.TrySetException(failure);
        _completion.TrySetException(failure);
    }
}
