using Shoal.Storage.Gcs;

namespace Shoal.Storage.Tests.Remote;

/// <summary>
/// The GCS backend (Google.Cloud.Storage.V1 with a custom base URI, unauthenticated) against
/// <see cref="FakeGcs"/>, a minimal protocol-level fake of the GCS JSON API started in the test.
/// </summary>
public sealed class GcsBackendTests : IAsyncLifetime
{
    private const string Bucket = "shoal-test";
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private FakeGcs _fake = null!;
    private GcsBackend _backend = null!;

    private CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync()
    {
        _fake = await FakeGcs.StartAsync(Bucket);
        _backend = Create();
    }

    public async Task DisposeAsync()
    {
        _backend.Dispose();
        await _fake.DisposeAsync();
        _timeout.Dispose();
    }

    private GcsBackend Create(string prefix = "") => new(new GcsBackendOptions
    {
        Bucket = Bucket,
        Endpoint = _fake.Endpoint,
        Prefix = prefix,
        ChunkSize = 256 * 1024,
    });

    private void AssertAllHandled() => Assert.True(_fake.Unhandled.Count == 0, string.Join("\n", _fake.Unhandled));

    [Fact]
    public async Task UploadAsync_ThenOpenRead_RoundTrips()
    {
        await BackendContract.RoundTripAsync(_backend, 100_000, Ct);
        AssertAllHandled();
    }

    [Fact]
    public async Task UploadAsync_SeveralChunks_RoundTrips()
    {
        await BackendContract.RoundTripAsync(_backend, 600_000, Ct); // three 256 KiB chunks
        Assert.True(_fake.Requests.Count(r => r.StartsWith("PUT /upload/", StringComparison.Ordinal)) >= 3, string.Join("\n", _fake.Requests));
        AssertAllHandled();
    }

    [Fact]
    public Task UploadAsync_Empty_RoundTrips() => BackendContract.RoundTripAsync(_backend, 0, Ct);

    [Fact]
    public Task OpenReadAsync_Ranges_ReturnTheRequestedBytes() => BackendContract.RangeAsync(_backend, Ct);

    [Fact]
    public Task AbsentObject_IsNullOrFalse() => BackendContract.AbsentAsync(_backend, Ct);

    [Fact]
    public Task DeleteAsync_Existing_RemovesIt() => BackendContract.DeleteAsync(_backend, Ct);

    [Fact]
    public Task UploadAsync_Again_Replaces() => BackendContract.OverwriteAsync(_backend, Ct);

    [Fact]
    public Task ListAsync_PagesInOrderWithinPrefix() => BackendContract.ListPagingAsync(_backend, Ct);

    [Fact]
    public Task UploadAsync_FailingOrWrongLengthContent_LeavesNothing() => BackendContract.FailedUploadLeavesNothingAsync(_backend, Ct);

    [Fact]
    public Task UploadAsync_FailedReplace_KeepsPrevious() => BackendContract.FailedReplaceKeepsPreviousAsync(_backend, Ct);

    [Fact]
    public async Task InvalidNames_AreRejectedBeforeAnyRequest()
    {
        await BackendContract.InvalidNamesAsync(_backend, Ct);
        Assert.Empty(_fake.Requests);
    }

    [Fact]
    public Task CancelledToken_Throws() => BackendContract.CancelledAsync(_backend);

    [Fact]
    public async Task Prefix_StoresUnderItAndListsWithout()
    {
        using var prefixed = Create(prefix: "shoal");
        await prefixed.UploadAsync("blobs/x", new MemoryStream([1]), 1, Ct);
        Assert.Equal(["blobs/x"], (await prefixed.ListAsync("", null, 10, Ct)).Objects.Select(o => o.Name));
        Assert.NotNull(await _backend.StatAsync("shoal/blobs/x", Ct));
    }
}
