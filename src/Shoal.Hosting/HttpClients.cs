using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

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
        if (tls is not null && (tls.InsecureSkipVerify || !string.IsNullOrEmpty(tls.CaCertificate)))
        {
            var extra = new X509Certificate2Collection();
            if (!string.IsNullOrEmpty(tls.CaCertificate))
            {
                extra.ImportFromPemFile(tls.CaCertificate);
            }
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                {
                    if (tls.InsecureSkipVerify || errors == SslPolicyErrors.None)
                    {
                        return true;
                    }
                    if (certificate is null || extra.Count == 0 || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                    {
                        return false;
                    }
                    using var custom = new X509Chain();
                    custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    custom.ChainPolicy.CustomTrustStore.AddRange(extra);
                    custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return custom.Build(new X509Certificate2(certificate));
                },
            };
        }
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
