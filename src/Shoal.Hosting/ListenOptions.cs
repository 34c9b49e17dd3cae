using System.ComponentModel.DataAnnotations;

namespace Shoal.Hosting;

/// <summary>Where a component's HTTP server listens.</summary>
public sealed class ListenOptions
{
    /// <summary>IP address to bind (IPv4 or IPv6; <c>0.0.0.0</c> or <c>::</c> for all). Default <c>127.0.0.1</c>.</summary>
    [Required]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests). Default depends on the component.</summary>
    [Range(0, 65535)]
    public int Port { get; set; }

    /// <summary>Serve HTTPS with this certificate when set.</summary>
    public TlsServerOptions? Tls { get; set; }
}

/// <summary>A server certificate for HTTPS.</summary>
public sealed class TlsServerOptions
{
    /// <summary>Path of the PEM certificate (chain). Required when TLS is configured.</summary>
    [Required]
    public string Certificate { get; set; } = string.Empty;

    /// <summary>Path of the PEM private key. Required when TLS is configured.</summary>
    [Required]
    public string Key { get; set; } = string.Empty;
}

/// <summary>How a component's HTTP clients trust the servers they call.</summary>
public sealed class TlsClientOptions
{
    /// <summary>PEM file with extra CA certificates to trust; empty = the system store only.</summary>
    public string? CaCertificate { get; set; }

    /// <summary>Skip server certificate verification (testing only). Default false.</summary>
    public bool InsecureSkipVerify { get; set; }
}
