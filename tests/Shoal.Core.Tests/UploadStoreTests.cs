using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Shoal.Core.Store;

namespace Shoal.Core.Tests;

public sealed class UploadStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new();
    private readonly UploadStore _uploads;
    private readonly BlobStore _store;

    public UploadStoreTests()
    {
        _uploads = new UploadStore(_dir.Path, _time);
        _store = new BlobStore(new BlobStoreOptions { Root = System.IO.Path.Combine(_dir.Path, "store") }, _time);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Chunks_AppendedInOrder_CommitVerifiesAndEndsSession()
    {
        var data = RandomNumberGenerator.GetBytes(700_000);
        var session = _uploads.Start("library/app");

        var first = await _uploads.AppendAsync(session.Id, new MemoryStream(data, 0, 300_000), 0, null, CancellationToken.None);
        var second = await _uploads.AppendAsync(session.Id, new MemoryStream(data, 300_000, 400_000), 300_000, null, CancellationToken.None);

        Assert.True(first.Succeeded);
        Assert.Equal(700_000, second.Size);
        Assert.Equal("library/app", _uploads.Get(session.Id)!.Repository);
        var result = await _uploads.CommitAsync(session.Id, Digest.Compute(data), _store, CancellationToken.None);
        Assert.Equal(Digest.Compute(data), result.Digest);
        Assert.Null(_uploads.Get(session.Id));
        await using var stream = _store.OpenRead(result.Digest)!;
        Assert.Equal(data, await BlobStoreTests.ReadAllAsync(stream));
    }

    [Fact]
    public async Task AppendAsync_WrongOffset_IsRefusedWithCurrentSize()
    {
        var session = _uploads.Start();
        await _uploads.AppendAsync(session.Id, new MemoryStream(new byte[10]), null, null, CancellationToken.None);

        var result = await _uploads.AppendAsync(session.Id, new MemoryStream(new byte[10]), 5, null, CancellationToken.None);

        Assert.Equal(UploadAppendError.RangeInvalid, result.Error);
        Assert.Equal(10, result.Size);
        Assert.Equal(10, _uploads.Get(session.Id)!.Size);
    }

    [Fact]
    public async Task AppendAsync_TooLarge_IsRefusedAndCutBack()
    {
        var session = _uploads.Start();
        var result = await _uploads.AppendAsync(session.Id, new MemoryStream(new byte[1000]), null, 100, CancellationToken.None);
        Assert.Equal(UploadAppendError.TooLarge, result.Error);
        Assert.Equal(0, _uploads.Get(session.Id)!.Size);
    }

    [Fact]
    public async Task AppendAsync_BodyFailsMidway_SessionKeepsPreviousSize()
    {
        var session = _uploads.Start();
        await _uploads.AppendAsync(session.Id, new MemoryStream(new byte[1000]), 0, null, CancellationToken.None);

        await Assert.ThrowsAsync<IOException>(() => _uploads.AppendAsync(session.Id, BlobStoreTests.Failing(new byte[500_000], 300_000), 1000, null, CancellationToken.None));

        Assert.Equal(1000, _uploads.Get(session.Id)!.Size);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("0123456789abcdef0123456789abcdeg")]
    [InlineData("0123456789abcdef0123456789abcdef/..")]
    public async Task UnknownOrMalformedId_IsUnknown(string id)
    {
        Assert.Null(_uploads.Get(id));
        var result = await _uploads.AppendAsync(id, new MemoryStream(new byte[1]), null, null, CancellationToken.None);
        Assert.Equal(UploadAppendError.Unknown, result.Error);
        Assert.False(_uploads.Delete(id));
    }

    [Fact]
    public async Task CommitAsync_Mismatch_KeepsSessionAndStoresNothing()
    {
        var session = _uploads.Start();
        await _uploads.AppendAsync(session.Id, new MemoryStream(new byte[100]), 0, null, CancellationToken.None);
        var wrong = Digest.Compute([1]);

        await Assert.ThrowsAsync<DigestMismatchException>(() => _uploads.CommitAsync(session.Id, wrong, _store, CancellationToken.None));

        Assert.NotNull(_uploads.Get(session.Id));
        Assert.Empty(_store.Enumerate());
    }

    [Fact]
    public async Task ComputeDigestAsync_MatchesContent()
    {
        var data = RandomNumberGenerator.GetBytes(1234);
        var session = _uploads.Start();
        await _uploads.AppendAsync(session.Id, new MemoryStream(data), 0, null, CancellationToken.None);
        Assert.Equal(Digest.Compute(data), await _uploads.ComputeDigestAsync(session.Id, CancellationToken.None));
    }

    [Fact]
    public void Sessions_SurviveRestart_AndExpire()
    {
        var session = _uploads.Start();
        var reopened = new UploadStore(_dir.Path, _time);
        Assert.NotNull(reopened.Get(session.Id));

        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(0, reopened.PurgeOlderThan(TimeSpan.FromHours(1)));
        _time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, reopened.PurgeOlderThan(TimeSpan.FromHours(1)));
        Assert.Null(reopened.Get(session.Id));
    }

    [Fact]
    public void Delete_EndsSession()
    {
        var session = _uploads.Start();
        Assert.True(_uploads.Delete(session.Id));
        Assert.Null(_uploads.Get(session.Id));
    }
}
