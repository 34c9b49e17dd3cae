using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;
using Shoal.TestKit;

namespace Shoal.Storage.Tests.Remote;

/// <summary>
/// s3rver (an S3-protocol server from npm) on 127.0.0.1, with one bucket, in a temp directory.
/// scripts/test.sh installs it under artifacts/npm and exports its path as <see cref="Variable"/>.
/// It serves HTTPS with a certificate made for the run: S3 clients send unchunked, unsigned
/// payloads (what s3rver can store) only over TLS.
/// </summary>
public sealed class S3rver : IAsyncLifetime
{
    /// <summary>The environment variable naming the s3rver executable.</summary>
    public const string Variable = "SHOAL_S3RVER";

    /// <summary>The bucket s3rver creates at start.</summary>
    public const string Bucket = "shoal-test";

    /// <summary>s3rver's built-in credentials.</summary>
    public const string AccessKey = "S3RVER";

    private readonly TempDirectory _dir = new();
    private ExternalProcess? _process;

    /// <summary>The server's self-signed certificate.</summary>
    public X509Certificate2? Certificate { get; private set; }

    /// <summary>SDK HTTP clients that trust exactly <see cref="Certificate"/>.</summary>
    public HttpClientFactory TrustingClients => new TrustingFactory(Certificate!);

    /// <summary>The server's base URL.</summary>
    public string Endpoint { get; private set; } = string.Empty;

    /// <summary>Throws with an explanation when s3rver is not running because it is not installed.</summary>
    public void Require()
    {
        if (_process is null)
        {
            throw new InvalidOperationException(Explain());
        }
    }

    /// <summary>The s3rver executable, or null when it is not installed.</summary>
    public static string? Find()
    {
        var configured = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }
        // Not run through scripts/test.sh: look where it installs s3rver, then on PATH.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "artifacts", "npm", "node_modules", ".bin", "s3rver");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return ToolCheck.Find("s3rver");
    }

    /// <summary>Why s3rver tests cannot run, for failures and skips.</summary>
    public static string Explain() =>
        $"s3rver is missing: scripts/test.sh installs it (npm install --prefix artifacts/npm s3rver) and sets {Variable}; " +
        $"set {ToolCheck.OptionalVariable}=1 to skip these tests instead";

    public async Task InitializeAsync()
    {
        var executable = Find();
        if (executable is null)
        {
            return; // each test fails (or is skipped) with Explain(); see Require().
        }
        var port = FreePort.Next(IPAddress.Loopback);
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Combine(_dir.Path, "key.pem"), key.ExportPkcs8PrivateKeyPem());
            await File.WriteAllTextAsync(Path.Combine(_dir.Path, "cert.pem"), Certificate.ExportCertificatePem());
        }
        var data = Path.Combine(_dir.Path, "data");
        Directory.CreateDirectory(data);
        _process = ExternalProcess.Start(executable,
            ["-d", data, "--key", Path.Combine(_dir.Path, "key.pem"), "--cert", Path.Combine(_dir.Path, "cert.pem"), "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent",
             "--no-vhost-buckets", "--configure-bucket", Bucket],
            // s3rver encrypts continuation tokens with a cipher OpenSSL 3 keeps in its legacy provider.
            new Dictionary<string, string?> { ["NODE_OPTIONS"] = "--openssl-legacy-provider" });
        Endpoint = $"https://127.0.0.1:{port}";
        try
        {
            await _process.WaitForTcpPortAsync("127.0.0.1", port, TimeSpan.FromSeconds(30));
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"s3rver did not start: {_process.Output}", ex);
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(5));
            _process.Dispose();
        }
        Certificate?.Dispose();
        _dir.Dispose();
    }

    private sealed class TrustingFactory(X509Certificate2 certificate) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate.Thumbprint },
        });
    }
}

/// <summary>A fact that needs s3rver: it fails when s3rver is missing, or is skipped when <see cref="ToolCheck.OptionalVariable"/> is 1.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class S3rverFactAttribute : FactAttribute
{
    public S3rverFactAttribute()
    {
        if (ToolCheck.IsOptional && S3rver.Find() is null)
        {
            Skip = S3rver.Explain();
        }
    }
}
