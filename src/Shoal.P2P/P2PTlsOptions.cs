namespace Shoal.P2P;

/// <summary>Whether peer connections are encrypted (see <see cref="P2PTlsOptions.Mode"/>).</summary>
public enum P2PTlsMode
{
    /// <summary>Plaintext TCP only (the default).</summary>
    Off,

    /// <summary>
    /// Accepts TLS and plaintext connections, dials plaintext: the first step of turning TLS on in a
    /// running cluster, when some peers do not speak it yet.
    /// </summary>
    Permissive,

    /// <summary>Dials TLS and accepts TLS only; a plaintext peer is refused with <c>Forbidden</c>.</summary>
    Strict,
}

/// <summary>
/// Mutual TLS between peers (docs/p2p-protocol.md section 1): each side presents a certificate
/// issued by the cluster's CA and accepts only certificates that chain to it. Peers are dialled by
/// address, so host names are not checked; the CA is the identity (one certificate may be shared by
/// every node of a DaemonSet). The files are read again when they change, so a renewed certificate
/// takes effect on the next connection without a restart.
/// </summary>
public sealed class P2PTlsOptions
{
    /// <summary><c>off</c> (default), <c>permissive</c> or <c>strict</c>.</summary>
    public P2PTlsMode Mode { get; set; } = P2PTlsMode.Off;

    /// <summary>Path of this peer's PEM certificate (chain). Required unless the mode is <c>off</c>.</summary>
    public string? Certificate { get; set; }

    /// <summary>Path of this peer's PEM private key. Required unless the mode is <c>off</c>.</summary>
    public string? Key { get; set; }

    /// <summary>Path of a PEM file of the CA certificates peers' certificates must chain to. Required unless the mode is <c>off</c>.</summary>
    public string? CaCertificate { get; set; }
}
