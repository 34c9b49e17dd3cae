using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Shoal.Internal;

/// <summary>Logging adjustments shared by every host the executable starts.</summary>
internal static class HostLogging
{
    /// <summary>
    /// The generic host logs a failed start (e.g. a port in use) with a full stack trace; the
    /// command line reports that failure itself in one line, so only critical host messages remain.
    /// </summary>
    public static void Quiet(WebApplicationBuilder builder) =>
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
}
