using System.Net;
using Shoal.Core.Security;

namespace Shoal.Hosting;

/// <summary>Builds the HTTP clients components use to call each other.</summary>
public static class HttpClients
{
    /// <summary>
    /// A pooled <see cref="HttpClient"/> for service-to-service calls: no overall timeout (blob
    /// transfers are long; callers pass cancellation tokens), short connect timeout, TLS trust from
    /// <paramref name="tls"/>.
    /// </summary>
    public static HttpClient Create(TlsClientOptions? tls = null, TimeSpan? connectTimeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            MaxConnectionsPerServer = 256,
            UseProxy = false,
        };
        if (tls is not null && CertificateTrust.ClientOptions(tls.CaCertificate, tls.InsecureSkipVerify) is { } ssl)
        {
            handler.SslOptions = ssl;
        }
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
