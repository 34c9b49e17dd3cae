using Shoal.Agent.Internal;
using Shoal.Core.Store;

namespace Shoal.Agent.Tests;

/// <summary>
/// A hand-written <see cref="IBlobSource"/>: serves blobs from memory, each download held until the
/// test releases it, or failing with a scripted exception.
/// </summary>
internal sealed class ScriptedBlobSource : IBlobSource
{
    private readonly Dictionary<Shoal.Core.Digest, byte[]> _blobs = [];
    private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _downloads;

    public ScriptedBlobSource() => _gate.SetResult();

    /// <summary>Thrown by the next downloads while set.</summary>
    public Exception? Failure { get; set; }

    public int Downloads => Volatile.Read(ref _downloads);

    public Shoal.Core.Digest Add(byte[] content)
    {
        var digest = Shoal.Core.Digest.Compute(content);
        _blobs[digest] = content;
        return digest;
    }

    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public Task<long?> StatAsync(BlobRequest request, CancellationToken cancellationToken)
        => Task.FromResult(_blobs.TryGetValue(request.Digest, out var content) ? (long?)content.Length : null);

    public async Task<BlobCommitResult?> DownloadAsync(BlobRequest request, BlobStore store, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _downloads);
        await _gate.Task.WaitAsync(cancellationToken);
        if (Failure is { } failure)
        {
            throw failure;
        }
        if (!_blobs.TryGetValue(request.Digest, out var content))
        {
            return null;
        }
        return await store.WriteAsync(request.Digest, new MemoryStream(content), content.Length, cancellationToken);
    }
}
