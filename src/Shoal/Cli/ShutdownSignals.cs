using System.Runtime.InteropServices;

namespace Shoal.Cli;

/// <summary>
/// Turns the first Ctrl+C (SIGINT) or SIGTERM into a graceful stop; a second one is left to its
/// default action, so a stuck shutdown can still be interrupted.
/// </summary>
internal sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignals()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    /// <summary>Cancelled by the first signal, or by <see cref="Trigger"/>.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>Starts a graceful stop without a signal (e.g. a component stopped by itself).</summary>
    public void Trigger()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (_stop.IsCancellationRequested)
        {
            return; // second signal: default action, the process ends now
        }
        context.Cancel = true;
        Trigger();
    }
}
