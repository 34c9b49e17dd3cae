using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Shoal.TestKit;

/// <summary>
/// A throw-away certificate authority for TLS tests: an ECDSA P-256 root that issues leaf
/// certificates (server and client use, SAN 127.0.0.1 and localhost) written as PEM files.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>A new root named <paramref name="name"/>, its certificate written to <c>ca.pem</c> in <paramref name="directory"/>.</summary>
    public TestCertificateAuthority(string directory, string name = "Shoal test CA")
    {
        System.IO.Directory.CreateDirectory(directory);
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        Directory = directory;
        CertificatePath = Path.Combine(directory, "ca.pem");
        File.WriteAllText(CertificatePath, Certificate.ExportCertificatePem());
    }

    /// <summary>The root certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Where the authority writes its files.</summary>
    public string Directory { get; }

    /// <summary>The root certificate's PEM file.</summary>
    public string CertificatePath { get; }

    /// <summary>
    /// Issues a leaf certificate for <paramref name="name"/> and writes <c>name.pem</c> and
    /// <c>name.key</c>; returns their paths. Writing again over the same name replaces both files.
    /// </summary>
    public (string Certificate, string Key, X509Certificate2 Issued) Issue(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        var certificatePath = Path.Combine(Directory, name + ".pem");
        var keyPath = Path.Combine(Directory, name + ".key");
        File.WriteAllText(certificatePath, issued.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath, X509CertificateLoader.LoadCertificate(issued.RawData));
    }

    public void Dispose()
    {
        Certificate.Dispose();
        _key.Dispose();
    }
}
