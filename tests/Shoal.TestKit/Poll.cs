namespace Shoal.TestKit;

/// <summary>Polling for a condition in tests that wait on background work.</summary>
public static class Poll
{
    /// <summary>Waits until <paramref name="condition"/> holds, failing after <paramref name="timeoutSeconds"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, int timeoutSeconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }
}
