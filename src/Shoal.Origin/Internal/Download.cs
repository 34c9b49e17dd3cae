using Shoal.Core;

namespace Shoal.Origin.Internal;

/// <summary>
/// One in-flight fill of a cache miss: the bytes land in <see cref="TempPath"/> as they arrive
/// (readers may tail it), and the blob enters the store only once verified.
/// </summary>
internal sealed class Download
{
    private readonly object _lock = new();
    private readonly TaskCompletionSource<long?> _size = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<FetchResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _written;

    public Download(Digest digest, string tempPath)
    {
        Digest = digest;
        TempPath = tempPath;
    }

    public Digest Digest { get; }

    /// <summary>The file the bytes are written to while they arrive (gone once committed or failed).</summary>
    public string TempPath { get; }

    /// <summary>Bytes written to <see cref="TempPath"/> so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>The blob's length once a source answered; null when the fill ended without one (not found, failed).</summary>
    public Task<long?> Size => _size.Task;

    /// <summary>How the fill ended.</summary>
    public Task<FetchResult> Completion => _completion.Task;

    /// <summary>True once the blob is verified and in the store.</summary>
    public bool IsVerified => _completion.Task.IsCompletedSuccessfully && _completion.Task.Result.Status == FetchStatus.Stored;

    public void Started(long size) => _size.TrySetResult(size);

    public void Advance(long count)
    {
        Interlocked.Add(ref _written, count);
        Pulse();
    }

    public void Complete(FetchResult result)
    {
        _size.TrySetResult(null);
        _completion.TrySetResult(result);
        Pulse();
    }

    /// <summary>Waits until more than <paramref name="have"/> bytes are written or the fill ended.</summary>
    public Task WaitForProgressAsync(long have, CancellationToken cancellationToken)
    {
        Task wait;
        lock (_lock)
        {
            if (Written > have || _completion.Task.IsCompleted)
            {
                return Task.CompletedTask;
            }
            wait = _progress.Task;
        }
        return wait.WaitAsync(cancellationToken);
    }

    private void Pulse()
    {
        lock (_lock)
        {
            _progress.TrySetResult();
            _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
