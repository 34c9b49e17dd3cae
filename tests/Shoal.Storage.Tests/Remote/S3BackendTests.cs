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

    [S3rverFact]
    public async Task DistributionLayout_KeysAreTheRegistrysUnderRootDirectoryPrefix()
    {
        // A registry with storage.s3.rootdirectory: /<prefix> keeps <prefix>/docker/registry/v2/… keys.
        var prefix = BackendContract.Unique();
        using var layout = new DistributionLayoutBackend(Create(1 << 20, 1 << 20, prefix: prefix));
        var data = RandomNumberGenerator.GetBytes(1000);
        var digest = Core.Digest.Compute(data);
        var link = "repositories/team/app/_manifests/tags/v1/current/link";

        await layout.UploadAsync(BackendNames.ForBlob(digest), new MemoryStream(data), data.Length, _ct);
        await layout.UploadAsync(link, new MemoryStream("x"u8.ToArray()), 1, _ct);
        await _backend.UploadAsync($"{prefix}/docker/registry/v2/repositories/team/app/_uploads/u/startedat", new MemoryStream([1]), 1, _ct);

        Assert.NotNull(await _backend.StatAsync($"{prefix}/docker/registry/v2/blobs/sha256/{digest.Hex[..2]}/{digest.Hex}/data", _ct));
        Assert.NotNull(await _backend.StatAsync($"{prefix}/docker/registry/v2/{link}", _ct));
        var all = await layout.ListAsync("", null, 100, _ct);
        Assert.Equal([BackendNames.ForBlob(digest), link, "repositories/team/app/_uploads/u/startedat"], all.Objects.Select(o => o.Name));
        Assert.Equal([link], (await layout.ListAsync("repositories/team/app/_manifests/", null, 100, _ct)).Objects.Select(o => o.Name));
    }
}
