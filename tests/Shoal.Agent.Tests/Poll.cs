namespace Shoal.Agent.Tests;

internal static class Poll
{
    /// <summary>Waits until <paramref name="condition"/> holds, failing after <paramref name="timeoutSeconds"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, int timeoutSeconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }
}
