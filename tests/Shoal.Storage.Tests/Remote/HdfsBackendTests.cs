using System.Net;
using Shoal.Storage.Hdfs;
using Shoal.TestKit;

namespace Shoal.Storage.Tests.Remote;

/// <summary>The WebHDFS backend against <see cref="FakeWebHdfs"/>, a protocol-level fake name node and data node.</summary>
public sealed class HdfsBackendTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private FakeWebHdfs _fake = null!;
    private HdfsBackend _backend = null!;

    private CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync()
    {
        _fake = await FakeWebHdfs.StartAsync();
        _backend = Create([_fake.Url]);
    }

    public async Task DisposeAsync()
    {
        _backend.Dispose();
        await _fake.DisposeAsync();
        _timeout.Dispose();
    }

    private static HdfsBackend Create(List<string> nameNodes) => new(new HdfsBackendOptions
    {
        NameNodes = nameNodes,
        User = "shoal",
        RootPath = "/data/shoal",
        BufferSize = 64 * 1024,
    });

    [Fact]
    public async Task UploadAsync_ThenOpenRead_RoundTripsUnderRootWithUser()
    {
        await BackendContract.RoundTripAsync(_backend, 300_000, Ct);
        Assert.Single(_fake.FilePaths);
        Assert.StartsWith("/data/shoal/t", _fake.FilePaths[0], StringComparison.Ordinal);
        Assert.All(_fake.Users, user => Assert.Equal("shoal", user));
        Assert.Contains("RENAME", _fake.Ops); // written to a temp name, then renamed into place
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
    public async Task UploadAsync_FailingOrWrongLengthContent_LeavesNothing()
    {
        await BackendContract.FailedUploadLeavesNothingAsync(_backend, Ct);
        Assert.Empty(_fake.FilePaths); // no temp file left behind either
    }

    [Fact]
    public Task UploadAsync_FailedReplace_KeepsPrevious() => BackendContract.FailedReplaceKeepsPreviousAsync(_backend, Ct);

    [Fact]
    public async Task InvalidNames_AreRejectedBeforeAnyRequest()
    {
        await BackendContract.InvalidNamesAsync(_backend, Ct);
        Assert.Empty(_fake.Ops);
    }

    [Fact]
    public Task CancelledToken_Throws() => BackendContract.CancelledAsync(_backend);

    [Fact]
    public async Task ListAsync_SkipsTempFiles()
    {
        await _backend.UploadAsync("a/b", new MemoryStream([1]), 1, Ct);
        using var backend2 = Create([_fake.Url]);
        var page = await backend2.ListAsync("", null, 100, Ct);
        Assert.Equal(["a/b"], page.Objects.Select(o => o.Name));
    }

    [Fact]
    public async Task NameNodes_StandbyAndUnreachable_FailOverToTheActiveOne()
    {
        await using var standby = await FakeWebHdfs.StartStandbyAsync();
        var dead = $"http://127.0.0.1:{FreePort.Next(IPAddress.Loopback)}";
        using var backend = Create([dead, standby.Url, _fake.Url]);
        await BackendContract.RoundTripAsync(backend, 10_000, Ct);
    }

    [Fact]
    public async Task NameNodes_AllDown_Throws()
    {
        await using var standby = await FakeWebHdfs.StartStandbyAsync();
        using var backend = Create([standby.Url]);
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => backend.StatAsync("a/b", Ct));
        Assert.Contains("no hdfs name node", ex.Message, StringComparison.Ordinal);
    }
}
