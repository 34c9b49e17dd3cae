using System.Net.Sockets;
using System.Text.Json;
using Shoal.Clients;
using Shoal.Core;

namespace Shoal.Agent.Internal;

/// <summary>Deadlines for calls to upstreams, and which failures mean "Shoal is unavailable".</summary>
internal static class Upstream
{
    /// <summary>Runs <paramref name="call"/> with a deadline of <paramref name="timeout"/> on top of <paramref name="cancellationToken"/>.</summary>
    public static async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await call(linked.Token);
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {timeout.TotalSeconds:0.#} s", ex);
        }
    }

    /// <summary>
    /// True when <paramref name="ex"/> means an upstream could not serve us (unreachable, failing,
    /// slow, or sending corrupt content) rather than "the content does not exist" or a bug. A
    /// cancellation is a failure only when the caller itself did not cancel.
    /// </summary>
    public static bool IsFailure(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or SocketException or IOException or TimeoutException => true,
        ServiceException or DigestMismatchException or InvalidDataException or TrackerUnavailableException => true,
        JsonException or FormatException => true, // an upstream answered with a body we cannot read
        _ => false,
    };
}
