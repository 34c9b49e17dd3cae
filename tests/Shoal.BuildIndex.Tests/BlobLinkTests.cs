namespace Shoal.BuildIndex.Tests;

public sealed class BlobLinkTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private BuildIndexHost _host = null!;

    public async Task InitializeAsync() => _host = await BuildIndexHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task PutBlobLink_ThenHas_IsTrueForThatRepositoryOnly()
    {
        var layer = BuildIndexHost.DigestOf("layer");
        await _host.Client.PutBlobLinkAsync("library/nginx", layer, Ct);

        Assert.True(await _host.Client.HasBlobLinkAsync("library/nginx", layer, Ct));
        Assert.False(await _host.Client.HasBlobLinkAsync("library/redis", layer, Ct));
        Assert.False(await _host.Client.HasBlobLinkAsync("library/nginx", BuildIndexHost.DigestOf("other"), Ct));
    }

    [Fact]
    public async Task PutBlobLink_Twice_IsIdempotent()
    {
        var layer = BuildIndexHost.DigestOf("layer");
        await _host.Client.PutBlobLinkAsync("app", layer, Ct);
        await _host.Client.PutBlobLinkAsync("app", layer, Ct);

        Assert.True(await _host.Client.HasBlobLinkAsync("app", layer, Ct));
    }

    [Fact]
    public async Task DeleteBlobLink_Linked_UnlinksAndReportsTrueOnce()
    {
        var layer = BuildIndexHost.DigestOf("layer");
        await _host.Client.PutBlobLinkAsync("app", layer, Ct);

        Assert.True(await _host.Client.DeleteBlobLinkAsync("app", layer, Ct));
        Assert.False(await _host.Client.HasBlobLinkAsync("app", layer, Ct));
        Assert.False(await _host.Client.DeleteBlobLinkAsync("app", layer, Ct));
    }
}
