using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Shoal.Core.Security;

namespace Shoal.P2P.Engine;

/// <summary>
/// The byte stream under every peer connection (docs/p2p-protocol.md section 1): plaintext TCP, or
/// mutual TLS with the cluster's CA (<see cref="P2PTlsOptions"/>). Dialled connections use TLS in
/// <see cref="P2PTlsMode.Strict"/> mode; an accepted one is told apart by its first byte (a TLS
/// record starts with <c>0x16</c>, a Shoal frame with <c>0x00</c>), so one port serves both while
/// a cluster moves to TLS. Certificate, key and CA files are read again when one of them changes.
/// </summary>
internal sealed partial class PeerTransport
{
    /// <summary>The ALPN protocol id of Shoal's peer protocol.</summary>
    public static readonly SslApplicationProtocol Protocol = new("shoal-p2p/1");

    /// <summary>The first byte of a TLS handshake record.</summary>
    private const byte TlsHandshakeRecord = 0x16;

    private const SslProtocols Versions = SslProtocols.Tls12 | SslProtocols.Tls13;

    private readonly P2PTlsOptions _options;
    private readonly ILogger _logger;
    private readonly EngineStats _stats;
    private readonly Lock _lock = new();
    private Credentials? _credentials;

    /// <summary>A transport for <paramref name="options"/>; unless TLS is off, the files are read now (a bad file fails here, at start).</summary>
    public PeerTransport(P2PTlsOptions options, ILogger logger, EngineStats stats)
    {
        _options = options;
        _logger = logger;
        _stats = stats;
        if (Mode != P2PTlsMode.Off)
        {
            _credentials = Credentials.Load(options);
        }
    }

    /// <summary>The configured mode.</summary>
    public P2PTlsMode Mode => _options.Mode;

    /// <summary>
    /// The stream of a socket we connected: plaintext, or (strict mode) TLS once both sides proved
    /// certificates of the cluster's CA. The socket belongs to the stream; on failure it is closed.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(Socket socket, string host, CancellationToken cancellationToken)
    {
        var network = new NetworkStream(socket, ownsSocket: true);
        if (Mode != P2PTlsMode.Strict)
        {
            return network;
        }
        var credentials = Current();
        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                ApplicationProtocols = [Protocol],
                ClientCertificateContext = credentials.Context,
                EnabledSslProtocols = Versions,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, chain, _) => credentials.Trusts(certificate, chain),
            }, cancellationToken);
            CheckProtocol(tls);
            _stats.TlsOpened();
            return tls;
        }
        catch
        {
            _stats.TlsFailed();
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The stream of an accepted socket. Unless TLS is off, waits for the first byte: a TLS
    /// handshake is answered (a client certificate of the cluster's CA required); plaintext is taken
    /// in permissive mode and marked <see cref="Accepted.Refused"/> in strict mode (the caller
    /// answers it with a plaintext Error). The socket belongs to the stream; on failure it is closed.
    /// </summary>
    public async ValueTask<Accepted> AcceptAsync(Socket socket, CancellationToken cancellationToken)
    {
        var network = new NetworkStream(socket, ownsSocket: true);
        if (Mode == P2PTlsMode.Off)
        {
            return new Accepted(network, Encrypted: false, Refused: false);
        }
        SslStream? tls = null;
        try
        {
            var first = new byte[1];
            var read = await socket.ReceiveAsync(first, SocketFlags.Peek, cancellationToken);
            if (read == 0 || first[0] != TlsHandshakeRecord)
            {
                var refused = Mode == P2PTlsMode.Strict && read > 0;
                if (refused)
                {
                    _stats.TlsFailed();
                }
                return new Accepted(network, Encrypted: false, refused);
            }
            var credentials = Current();
            tls = new SslStream(network, leaveInnerStreamOpen: false);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = credentials.Context,
                ClientCertificateRequired = true,
                ApplicationProtocols = [Protocol],
                EnabledSslProtocols = Versions,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, chain, _) => credentials.Trusts(certificate, chain),
            }, cancellationToken);
            CheckProtocol(tls);
            _stats.TlsOpened();
            return new Accepted(tls, Encrypted: true, Refused: false);
        }
        catch
        {
            if (tls is not null)
            {
                _stats.TlsFailed();
            }
            await (tls ?? (Stream)network).DisposeAsync();
            throw;
        }
    }

    private static void CheckProtocol(SslStream tls)
    {
        if (tls.NegotiatedApplicationProtocol != Protocol)
        {
            throw new AuthenticationException($"the peer did not agree on ALPN protocol {Protocol}");
        }
    }

    /// <summary>The credentials to use now: read again when a file changed since they were loaded (a failed reload keeps the old ones).</summary>
    private Credentials Current()
    {
        lock (_lock)
        {
            var current = _credentials!;
            var stamp = Credentials.StampOf(_options);
            if (current.Stamp == stamp)
            {
                return current;
            }
            try
            {
                _credentials = Credentials.Load(_options);
                Log.Reloaded(_logger, _options.Certificate!, _credentials.Context.TargetCertificate.NotAfter);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException or InvalidDataException)
            {
                Log.ReloadFailed(_logger, ex.Message);
                _credentials = current with { Stamp = stamp };
            }
            return _credentials;
        }
    }

    /// <summary>An accepted connection's stream: encrypted or not, and whether the mode refuses it.</summary>
    public readonly record struct Accepted(Stream Stream, bool Encrypted, bool Refused);

    /// <summary>This peer's certificate and the CA certificates peers must chain to, with the files' write times when read.</summary>
    private sealed record Credentials(SslStreamCertificateContext Context, X509Certificate2Collection Roots, string Stamp)
    {
        public static Credentials Load(P2PTlsOptions options)
        {
            var stamp = StampOf(options);
            X509Certificate2 leaf;
            try
            {
                leaf = X509Certificate2.CreateFromPemFile(options.Certificate!, options.Key);
            }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                throw new InvalidDataException($"p2p:tls: no certificate with its private key in {options.Certificate} and {options.Key}: {ex.Message}", ex);
            }
            X509Certificate2Collection roots;
            try
            {
                roots = CertificateTrust.LoadPem(options.CaCertificate!);
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or InvalidDataException)
            {
                throw new InvalidDataException($"p2p:tls:caCertificate {options.CaCertificate}: {ex.Message}", ex);
            }
            var chain = new X509Certificate2Collection();
            chain.ImportFromPemFile(options.Certificate!);
            var intermediates = new X509Certificate2Collection();
            foreach (var certificate in chain)
            {
                if (certificate.Thumbprint != leaf.Thumbprint)
                {
                    intermediates.Add(certificate);
                }
            }
            var context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
            return new Credentials(context, roots, stamp);
        }

        /// <summary>The last write times of the three files (changes when any of them is replaced).</summary>
        public static string StampOf(P2PTlsOptions options)
            => $"{File.GetLastWriteTimeUtc(options.Certificate!).Ticks}/{File.GetLastWriteTimeUtc(options.Key!).Ticks}/{File.GetLastWriteTimeUtc(options.CaCertificate!).Ticks}";

        /// <summary>True when the peer presented a certificate that chains to our CA.</summary>
        public bool Trusts(X509Certificate? certificate, X509Chain? presented)
            => certificate is not null && CertificateTrust.ChainsTo(certificate, presented, Roots);
    }

    private static partial class Log
    {
        [LoggerMessage(50, LogLevel.Information, "Peer TLS certificate {Path} read again (valid until {NotAfter:u})")]
        public static partial void Reloaded(ILogger logger, string path, DateTime notAfter);

        [LoggerMessage(51, LogLevel.Warning, "Peer TLS files changed but could not be read ({Reason}); the previous certificate stays in use")]
        public static partial void ReloadFailed(ILogger logger, string reason);
    }
}
