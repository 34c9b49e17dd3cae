using System.Security.Cryptography;
using Shoal.Storage.S3;

namespace Shoal.Storage.Tests.Remote;

/// <summary>The S3 backend against a real S3-protocol server (s3rver).</summary>
public sealed class S3BackendTests : IClassFixture<S3rver>, IDisposable
{
    private readonly S3rver _server;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly CancellationToken _ct;
    private readonly S3Backend _backend;

    public S3BackendTests(S3rver server)
    {
        server.Require();
        _server = server;
        _ct = _timeout.Token;
        _backend = Create(multipartThreshold: 64 * 1024, partSize: 32 * 1024);
    }

    public void Dispose()
    {
        _backend.Dispose();
        _timeout.Dispose();
    }

    private S3Backend Create(long multipartThreshold, long partSize, string prefix = "") => new(new S3BackendOptions
    {
        Bucket = S3rver.Bucket,
        Endpoint = _server.Endpoint,
        ForcePathStyle = true,
        ChunkedEncoding = false, // s3rver stores aws-chunked bodies undecoded
        AccessKeyId = S3rver.AccessKey,
        SecretAccessKey = S3rver.AccessKey,
        Prefix = prefix,
        MultipartThreshold = multipartThreshold,
        PartSize = partSize,
    }, config => config.HttpClientFactory = _server.TrustingClients);

    [S3rverFact]
    public Task UploadAsync_Small_RoundTrips() => BackendContract.RoundTripAsync(_backend, 20_000, _ct);

    [S3rverFact]
    public Task UploadAsync_Empty_RoundTrips() => BackendContract.RoundTripAsync(_backend, 0, _ct);

    [S3rverFact]
    public Task UploadAsync_AboveThreshold_UsesMultipartAndRoundTrips() => BackendContract.RoundTripAsync(_backend, 200_001, _ct);

    [S3rverFact]
    public Task OpenReadAsync_Ranges_ReturnTheRequestedBytes() => BackendContract.RangeAsync(_backend, _ct);

    [S3rverFact]
    public Task AbsentObject_IsNullOrFalse() => BackendContract.AbsentAsync(_backend, _ct);

    [S3rverFact]
    public Task DeleteAsync_Existing_RemovesIt() => BackendContract.DeleteAsync(_backend, _ct);

    [S3rverFact]
    public Task UploadAsync_Again_Replaces() => BackendContract.OverwriteAsync(_backend, _ct);

    [S3rverFact]
    public Task ListAsync_PagesInOrderWithinPrefix() => BackendContract.ListPagingAsync(_backend, _ct);

    [S3rverFact]
    public Task UploadAsync_FailingOrWrongLengthContent_LeavesNothing() => BackendContract.FailedUploadLeavesNothingAsync(_backend, _ct);

    /// <summary>
    /// A single PutObject whose body breaks fails. (S3 rejects a body shorter than its
    /// Content-Length, so nothing is stored; s3rver stores what arrived, so that half is only
    /// checked on the multipart path above.)
    /// </summary>
    [S3rverFact]
    public Task UploadAsync_FailingSinglePut_Throws()
        => BackendContract.FailedUploadLeavesNothingAsync(Create(multipartThreshold: 1 << 30, partSize: 1 << 20), _ct, serverRejectsIncompleteBodies: false);

    [S3rverFact]
    public Task UploadAsync_FailedReplace_KeepsPrevious() => BackendContract.FailedReplaceKeepsPreviousAsync(_backend, _ct);

    [S3rverFact]
    public Task InvalidNames_AreRejected() => BackendContract.InvalidNamesAsync(_backend, _ct);

    [S3rverFact]
    public Task CancelledToken_Throws() => BackendContract.CancelledAsync(_backend);

    [S3rverFact]
    public async Task Prefix_StoresUnderItAndListsWithout()
    {
        var prefix = BackendContract.Unique();
        using var prefixed = Create(1 << 20, 1 << 20, prefix: "/" + prefix + "/");
        await prefixed.UploadAsync("blobs/x", new MemoryStream([1]), 1, _ct);

        var page = await prefixed.ListAsync("", null, 10, _ct);
        Assert.Equal(["blobs/x"], page.Objects.Select(o => o.Name));
        Assert.NotNull(await _backend.StatAsync(prefix + "/blobs/x", _ct));
    }
}
