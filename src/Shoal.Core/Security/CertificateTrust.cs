using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Shoal.Core.Security;

/// <summary>
/// Certificate checks against CA certificates of our own (a PEM file in the configuration) rather
/// than, or besides, the system store: the one place every TLS client and server of Shoal decides
/// whether a certificate it was shown is trusted.
/// </summary>
public static class CertificateTrust
{
    /// <summary>The certificates of the PEM file at <paramref name="path"/>; a clear error when it holds none.</summary>
    public static X509Certificate2Collection LoadPem(string path)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        if (certificates.Count == 0)
        {
            throw new InvalidDataException($"{path} holds no PEM certificate");
        }
        return certificates;
    }

    /// <summary>
    /// The TLS options of an HTTP client that trusts the system store and the CA certificates of the
    /// PEM file <paramref name="caCertificate"/> (or, with <paramref name="insecureSkipVerify"/>, any
    /// certificate: testing only). Null when neither is configured: the platform's defaults apply.
    /// </summary>
    public static SslClientAuthenticationOptions? ClientOptions(string? caCertificate, bool insecureSkipVerify)
    {
        if (!insecureSkipVerify && string.IsNullOrEmpty(caCertificate))
        {
            return null;
        }
        var extra = string.IsNullOrEmpty(caCertificate) ? [] : LoadPem(caCertificate);
        return new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, chain, errors)
                => insecureSkipVerify || AcceptsServer(certificate, chain, errors, extra),
        };
    }

    /// <summary>
    /// The check of a server certificate by a client that trusts the system store and <paramref name="extraRoots"/>:
    /// true when the platform found no fault, or its only fault is a chain that does not reach a
    /// system root but does reach one of <paramref name="extraRoots"/>. A wrong host name is never forgiven.
    /// </summary>
    private static bool AcceptsServer(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2Collection extraRoots)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        return certificate is not null
            && extraRoots.Count > 0
            && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == 0
            && ChainsTo(certificate, presented, extraRoots);
    }

    /// <summary>
    /// True when <paramref name="certificate"/> is valid now and chains to one of <paramref name="roots"/>
    /// and to nothing else (the system store is not consulted), using the intermediates the peer
    /// presented in <paramref name="presented"/>. Revocation is not checked (private CAs rarely publish it).
    /// </summary>
    public static bool ChainsTo(X509Certificate certificate, X509Chain? presented, X509Certificate2Collection roots)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(roots);
        if (roots.Count == 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        try
        {
            return chain.Build(leaf);
        }
        finally
        {
            if (!ReferenceEquals(leaf, certificate))
            {
                leaf.Dispose();
            }
        }
    }
}
