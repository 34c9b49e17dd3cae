using Shoal.Hosting;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shoal.Core.Registry;
using Shoal.Proxy.Internal;

namespace Shoal.Proxy.Tests;

public sealed class UploadPurgeTests
{
    [Fact]
    public async Task Session_OlderThanTtl_IsPurged_YoungerOneStays()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cluster = await ProxyCluster.StartAsync(
            o => o.UploadSessionTtl = TimeSpan.FromMinutes(10),
            b => b.Services.AddSingleton<TimeProvider>(time));
        var old = await cluster.StartUploadAsync("team/app");
        time.Advance(TimeSpan.FromMinutes(6));
        var young = await cluster.StartUploadAsync("team/app");

        // Past the old session's TTL (10 min) plus one purge interval (TTL / 4), not the young one's.
        time.Advance(TimeSpan.FromMinutes(4) + UploadPurger.IntervalFor(TimeSpan.FromMinutes(10)));

        await WaitUntilAsync(async () =>
        {
            using var response = await cluster.Http.GetAsync(old);
            return response.StatusCode == HttpStatusCode.NotFound;
        });
        using var gone = await cluster.Http.GetAsync(old);
        await RegistryAssert.ErrorAsync(gone, HttpStatusCode.NotFound, RegistryErrorCode.BLOB_UPLOAD_UNKNOWN);
        using var kept = await cluster.Http.GetAsync(young);
        await RegistryAssert.StatusAsync(kept, HttpStatusCode.NoContent);
        Assert.Single(cluster.ProxySessions("team/app"));
    }

    [Theory]
    [InlineData(60, 15)]
    [InlineData(3600, 300)]
    [InlineData(7 * 24 * 3600, 300)]
    public void IntervalFor_IsQuarterOfTtlCappedAtFiveMinutes(int ttlSeconds, int expectedSeconds)
        => Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), UploadPurger.IntervalFor(TimeSpan.FromSeconds(ttlSeconds)));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the purge");
            await Task.Delay(20);
        }
    }
}
