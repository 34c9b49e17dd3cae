using Shoal.Storage;

namespace Shoal.Origin.Tests;

/// <summary>A <see cref="FileSystemBackend"/> that counts reads and uploads and can hold or fail them.</summary>
internal sealed class TestBackend : IBlobBackend
{
    private int _reads;
    private int _uploads;

    public TestBackend(string root) => Inner = new FileSystemBackend(root);

    public FileSystemBackend Inner { get; }

    /// <summary>How many times an object was opened for reading.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>How many uploads completed.</summary>
    public int Uploads => Volatile.Read(ref _uploads);

    /// <summary>When set, reads wait for it before opening the object.</summary>
    public TaskCompletionSource? ReadGate { get; set; }

    /// <summary>When set, reads throw it.</summary>
    public Exception? ReadFailure { get; set; }

    /// <summary>When set, uploads throw it.</summary>
    public Exception? UploadFailure { get; set; }

    public Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken) => Inner.StatAsync(name, cancellationToken);

    public async Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        if (ReadGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
        if (ReadFailure is { } failure)
        {
            throw failure;
        }
        return await Inner.OpenReadAsync(name, offset, length, cancellationToken);
    }

    public async Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        if (UploadFailure is { } failure)
        {
            throw failure;
        }
        await Inner.UploadAsync(name, content, length, cancellationToken);
        Interlocked.Increment(ref _uploads);
    }

    public Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
        => Inner.ListAsync(prefix, continuationToken, limit, cancellationToken);

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) => Inner.DeleteAsync(name, cancellationToken);
}
