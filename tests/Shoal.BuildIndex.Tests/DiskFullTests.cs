using System.Net;
using Microsoft.Extensions.Logging;
using Shoal.Clients;
using Shoal.Clients.BuildIndex;
using Shoal.Hosting;
using Shoal.TestKit;

namespace Shoal.BuildIndex.Tests;

/// <summary>A build-index whose disk is full refuses tag writes with 507 (not an unhandled 500), and takes them again once there is room.</summary>
public sealed class DiskFullTests
{
    [E2EFact(ToolCheck.Root)]
    public async Task PutTag_DiskFull_507_ThenAcceptedOnceThereIsRoom()
    {
        await using var disk = await TmpfsMount.CreateAsync(2);
        var app = BuildIndexServer.Build(
            new BuildIndexOptions { DataDir = Path.Combine(disk.Path, "data"), Listen = { Port = 0 } },
            builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        await using (app)
        {
            using var http = new HttpClient();
            var client = new BuildIndexClient(http, app.BaseAddress());
            await client.PutTagAsync("team/app", "v1", BuildIndexHost.DigestOf("v1"), CancellationToken.None);
            var filler = Path.Combine(disk.Path, "filler");
            await FillAsync(filler);

            var refused = await Assert.ThrowsAsync<ServiceException>(() =>
                client.PutTagAsync("team/app", "v2", BuildIndexHost.DigestOf("v2"), CancellationToken.None));

            Assert.True(refused.StatusCode == HttpStatusCode.InsufficientStorage, refused.ToString());
            Assert.Contains("build-index's disk is full", refused.Message, StringComparison.Ordinal);
            Assert.Equal(BuildIndexHost.DigestOf("v1"), await client.GetTagAsync("team/app", "v1", CancellationToken.None));
            File.Delete(filler);
            await client.PutTagAsync("team/app", "v2", BuildIndexHost.DigestOf("v2"), CancellationToken.None);
            Assert.Equal(BuildIndexHost.DigestOf("v2"), await client.GetTagAsync("team/app", "v2", CancellationToken.None));
        }
    }

    /// <summary>Writes zeros to <paramref name="path"/> until the filesystem has no room left.</summary>
    private static async Task FillAsync(string path)
    {
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
        var block = new byte[4096];
        try
        {
            while (true)
            {
                await file.WriteAsync(block);
            }
        }
        catch (IOException)
        {
            // Full.
        }
    }
}
