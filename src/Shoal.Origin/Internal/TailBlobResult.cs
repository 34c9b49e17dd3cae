using System.Buffers;
using Microsoft.AspNetCore.Http;
using Shoal.Core.Blobs;
using Shoal.Core.Store;
using Shoal.Hosting.Registry;

namespace Shoal.Origin.Internal;

/// <summary>
/// Serves a blob while its <see cref="Download"/> is still arriving: the response (200 with the
/// full Content-Length) streams the bytes from the download's temp file as they are written, but
/// its last byte only once the whole blob matched its digest. When the fill fails (digest mismatch,
/// source cut off) the connection is aborted, so no client silently receives a complete unverified blob.
/// </summary>
internal sealed class TailBlobResult : IResult
{
    private readonly Download _download;
    private readonly long _size;
    private readonly BlobStore _store;
    private readonly OriginMetrics _metrics;

    public TailBlobResult(Download download, long size, BlobStore store, OriginMetrics metrics)
    {
        _download = download;
        _size = size;
        _store = store;
        _metrics = metrics;
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var cancellationToken = httpContext.RequestAborted;
        FileStream file;
        try
        {
            file = new FileStream(_download.TempPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // The fill ended before this request opened its file: serve from the store, if it got there.
            await ServeFinishedAsync(httpContext);
            return;
        }
        await using var _ = file;
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentLength = _size;
        response.ContentType = "application/octet-stream";
        response.Headers[RegistryResponses.DigestHeader] = _download.Digest.ToString();
        response.Headers.ETag = $"\"{_download.Digest}\"";
        var buffer = ArrayPool<byte>.Shared.Rent(StreamBuffers.CopyBufferSize);
        long sent = 0;
        try
        {
            while (true)
            {
                // Everything written may go out except the last byte, which waits for verification.
                var allowed = _download.IsVerified ? _size : Math.Min(_download.Written, _size - 1);
                if (sent < allowed)
                {
                    var count = (int)Math.Min(buffer.Length, allowed - sent);
                    file.Position = sent;
                    var read = await file.ReadAsync(buffer.AsMemory(0, count), cancellationToken);
                    if (read == 0)
                    {
                        throw new IOException("the download's file ended early");
                    }
                    await response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    sent += read;
                    continue;
                }
                if (sent == _size)
                {
                    break;
                }
                if (_download.Completion.IsCompleted && !_download.IsVerified)
                {
                    httpContext.Abort(); // the blob did not verify: the client must not take what it got for the blob
                    return;
                }
                await _download.WaitForProgressAsync(_download.Written, cancellationToken);
            }
            if ((await _download.Completion.WaitAsync(cancellationToken)).Status != FetchStatus.Stored)
            {
                httpContext.Abort();
                return;
            }
            _metrics.BytesServed.Add(sent);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task ServeFinishedAsync(HttpContext httpContext)
    {
        var result = await _download.Completion.WaitAsync(httpContext.RequestAborted);
        var stream = result.Status == FetchStatus.Stored ? _store.OpenRead(_download.Digest) : null;
        if (stream is null)
        {
            httpContext.Abort();
            return;
        }
        await new BlobFileResult(_download.Digest, stream, _metrics, null).ExecuteAsync(httpContext);
    }
}
