using System.Net;
using Shoal.Clients;
using Shoal.TestKit;

namespace Shoal.Origin.Tests;

/// <summary>
/// An origin whose disk is full: an upload that does not fit is refused with a clear error, nothing
/// of it stays on the disk, and an upload that fits afterwards is stored. On a real filesystem of a
/// few MiB (tmpfs).
/// </summary>
public sealed class DiskFullTests
{
    [E2EFact(ToolCheck.Root)]
    public async Task Upload_LargerThanTheDisk_RefusedWithNothingLeft_ThenASmallUploadIsStored()
    {
        await using var disk = await TmpfsMount.CreateAsync(4);
        await using var origin = await OriginHost.StartAsync(o => o.DataDir = disk.Path);
        var (large, largeData) = OriginHost.RandomBlob(8 * 1024 * 1024);
        var (small, smallData) = OriginHost.RandomBlob(512 * 1024);

        var refused = await Assert.ThrowsAsync<ServiceException>(() =>
            origin.Client.UploadAsync(large, new MemoryStream(largeData), largeData.Length, "team/app", replicate: false, CancellationToken.None));

        Assert.True(refused.StatusCode == HttpStatusCode.InsufficientStorage, refused.ToString());
        Assert.False(origin.Store.Contains(large));
        Assert.Empty(origin.TempFiles());
        Assert.True(disk.UsedBytes < disk.TotalBytes / 4, $"{disk.UsedBytes} of {disk.TotalBytes} bytes still used");

        await origin.Client.UploadAsync(small, new MemoryStream(smallData), smallData.Length, "team/app", replicate: false, CancellationToken.None);
        Assert.Equal(smallData, await origin.GetBytesAsync(small));
    }

    [E2EFact(ToolCheck.Root)]
    public async Task ChunkedUpload_FillingTheDisk_507_TheSessionCancelledGivesTheSpaceBack()
    {
        await using var disk = await TmpfsMount.CreateAsync(4);
        await using var origin = await OriginHost.StartAsync(o => o.DataDir = disk.Path);
        var (_, largeData) = OriginHost.RandomBlob(8 * 1024 * 1024);

        var id = await origin.Client.StartUploadAsync("team/app", CancellationToken.None);
        var refused = await Assert.ThrowsAsync<ServiceException>(() =>
            origin.Client.AppendUploadAsync(id, new MemoryStream(largeData), largeData.Length, 0, CancellationToken.None));

        Assert.True(refused.StatusCode == HttpStatusCode.InsufficientStorage, refused.ToString());
        Assert.Contains("disk is full", refused.Message, StringComparison.Ordinal);
        await origin.Client.CancelUploadAsync(id, CancellationToken.None);
        Assert.True(disk.UsedBytes < disk.TotalBytes / 4, $"{disk.UsedBytes} of {disk.TotalBytes} bytes still used");
    }
}
