using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Shoal.Core.Security;
using Shoal.Core.Store;
using Shoal.P2P.Engine;
using Shoal.P2P.Protocol;
using Shoal.TestKit;

namespace Shoal.P2P.Tests;

/// <summary>Peer connections over mutual TLS (<see cref="P2PTlsOptions"/>), between real engines on loopback.</summary>
public sealed partial class EngineTests
{
    [Theory]
    [InlineData(P2PTlsMode.Off)]
    [InlineData(P2PTlsMode.Strict)]
    public async Task Tls_BlobCrossesTheWireReadableOnlyWithoutIt(P2PTlsMode mode)
    {
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        using var ca = new TestCertificateAuthority(Path.Combine(_root, "ca"));
        await using var seeder = StartSeeder(info, path, TlsOptions(mode, ca, "origin"));
        await using var tap = new Tap(seeder.LocalEndPoint!.Port);
        var store = new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, "store") });
        await using var agent = StartAgent(store, Path.Combine(_root, "partial"),
            new FakeAnnouncer(new PeerAddress("127.0.0.1", tap.Port, IsOrigin: true)), TlsOptions(mode, ca, "agent"));

        var download = await agent.DownloadAsync(info, null, CancellationToken.None);
        var result = await download.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(info.Digest, result.Digest);
        Assert.True(store.Contains(info.Digest));
        var wire = tap.FromTarget();
        Assert.True(wire.Length >= content.Length, $"{wire.Length} bytes crossed the tap");
        // The bytes at the tap carry the blob in clear exactly when TLS is off.
        var sample = content.AsSpan(1_000_000, 64);
        Assert.Equal(mode == P2PTlsMode.Off, wire.AsSpan().IndexOf(sample) >= 0);
        Assert.Equal(mode == P2PTlsMode.Strict, seeder.Stats.TlsConnections > 0 && agent.Stats.TlsConnections > 0);
        Assert.Equal(0, seeder.Stats.TlsFailures + agent.Stats.TlsFailures);
    }

    [Theory]
    [InlineData(false)] // the agent's CA is another, and it trusts only that one: it refuses the origin
    [InlineData(true)]  // the agent trusts the origin's CA but presents a certificate of another: the origin refuses it
    public async Task Tls_StrictPeersOfDifferentCas_NeverExchangeAPiece(bool agentTrustsOriginCa)
    {
        var content = RandomNumberGenerator.GetBytes(512 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        using var ca = new TestCertificateAuthority(Path.Combine(_root, "ca"));
        using var other = new TestCertificateAuthority(Path.Combine(_root, "other"), "Another CA");
        await using var seeder = StartSeeder(info, path, TlsOptions(P2PTlsMode.Strict, ca, "origin"));
        var agentOptions = TlsOptions(P2PTlsMode.Strict, other, "agent");
        if (agentTrustsOriginCa)
        {
            agentOptions.Tls.CaCertificate = ca.CertificatePath;
        }
        var store = new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, "store") });
        await using var agent = StartAgent(store, Path.Combine(_root, "partial"), new FakeAnnouncer(OriginOf(seeder)), agentOptions);

        var download = await agent.DownloadAsync(info, null, CancellationToken.None);
        // The side that refuses counts every attempt as failed; the agent keeps dialling as the tracker hands the origin out.
        var refuser = agentTrustsOriginCa ? seeder : agent;
        await Poll.UntilAsync(() => refuser.Stats.TlsFailures >= 2, 30);

        Assert.False(download.Completion.IsCompleted);
        Assert.Equal(0, seeder.Stats.PieceBytesSent);
        Assert.Equal(0, refuser.Stats.TlsConnections);
        Assert.Equal(0, seeder.Stats.ConnectionsOpened + agent.Stats.ConnectionsOpened);
        Assert.False(store.Contains(info.Digest));
    }

    [Fact]
    public async Task Tls_Strict_PlaintextDiallerIsToldForbidden()
    {
        var content = RandomNumberGenerator.GetBytes(256 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        using var ca = new TestCertificateAuthority(Path.Combine(_root, "ca"));
        await using var seeder = StartSeeder(info, path, TlsOptions(P2PTlsMode.Strict, ca, "origin"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, seeder.LocalEndPoint!.Port, timeout.Token);
        await using var connection = new PeerConnection(new NetworkStream(socket, ownsSocket: true));
        await connection.WriteAsync(HandshakeMessage.For(info, PeerId.NewRandom(), null), timeout.Token);
        var answer = (await connection.ReadMessageAsync(timeout.Token))!.Value;

        Assert.Equal(MessageType.Error, answer.Type);
        Assert.Equal(PeerErrorCode.Forbidden, answer.Error.Code);
        Assert.Contains("TLS", answer.Error.Text, StringComparison.Ordinal);
        Assert.Equal(1, seeder.Stats.TlsFailures);
    }

    [Fact]
    public async Task Tls_Permissive_ServesTlsAndPlaintextDiallers()
    {
        var content = RandomNumberGenerator.GetBytes(1024 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        using var ca = new TestCertificateAuthority(Path.Combine(_root, "ca"));
        await using var seeder = StartSeeder(info, path, TlsOptions(P2PTlsMode.Permissive, ca, "origin"));
        var tlsStore = new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, "tls", "store") });
        var plainStore = new BlobStore(new BlobStoreOptions { Root = Path.Combine(_root, "plain", "store") });
        await using var tlsAgent = StartAgent(tlsStore, Path.Combine(_root, "tls", "partial"), new FakeAnnouncer(OriginOf(seeder)), TlsOptions(P2PTlsMode.Strict, ca, "tls"));
        await using var plainAgent = StartAgent(plainStore, Path.Combine(_root, "plain", "partial"), new FakeAnnouncer(OriginOf(seeder)));

        var downloads = new[]
        {
            await tlsAgent.DownloadAsync(info, null, CancellationToken.None),
            await plainAgent.DownloadAsync(info, null, CancellationToken.None),
        };
        await Task.WhenAll(downloads.Select(d => d.Completion)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(tlsStore.Contains(info.Digest));
        Assert.True(plainStore.Contains(info.Digest));
        Assert.True(tlsAgent.Stats.TlsConnections > 0);
        Assert.Equal(0, plainAgent.Stats.TlsConnections);
        Assert.Equal(tlsAgent.Stats.TlsConnections, seeder.Stats.TlsConnections);
        Assert.Equal(0, seeder.Stats.TlsFailures);
    }

    [Fact]
    public async Task Tls_RenewedCertificate_IsPresentedOnTheNextConnection_WithoutARestart()
    {
        var content = RandomNumberGenerator.GetBytes(64 * 1024);
        var (info, path) = await WriteBlobAsync(content);
        using var ca = new TestCertificateAuthority(Path.Combine(_root, "ca"));
        var options = TlsOptions(P2PTlsMode.Strict, ca, "origin");
        await using var seeder = StartSeeder(info, path, options);
        var client = ca.Issue("client");

        var first = await PresentedSerialAsync(seeder, ca, client);
        var renewed = ca.Issue("origin").Issued;
        var later = DateTime.UtcNow.AddMinutes(1);
        File.SetLastWriteTimeUtc(options.Tls.Certificate!, later);
        File.SetLastWriteTimeUtc(options.Tls.Key!, later);
        var second = await PresentedSerialAsync(seeder, ca, client);

        Assert.NotEqual(first, second);
        Assert.Equal(renewed.SerialNumber, second);
    }

    [Fact]
    public void Tls_Options_OnWithoutFiles_NamesTheKey_AndModesBindFromLowerCase()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["p2p:tls:mode"] = "strict",
            ["p2p:tls:certificate"] = Path.Combine(_root, "missing.pem"),
        }).Build();
        var options = configuration.GetSection("p2p").Get<P2POptions>()!;
        Assert.Equal(P2PTlsMode.Strict, options.Tls.Mode);

        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true);

        Assert.All(results, r => Assert.Equal([nameof(P2POptions.Tls)], r.MemberNames));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("missing.pem does not exist", StringComparison.Ordinal));
        Assert.Contains(results, r => r.ErrorMessage == "key is required when mode is strict");
        Assert.Contains(results, r => r.ErrorMessage == "caCertificate is required when mode is strict");
    }

    [Fact]
    public void Tls_FilesThatAreNotPem_FailAtStart_NamingTheFile()
    {
        using var ca = new TestCertificateAuthority(Path.Combine(_root, "ca"));
        var options = TlsOptions(P2PTlsMode.Strict, ca, "origin");
        var garbage = Path.Combine(_root, "garbage.pem");
        File.WriteAllText(garbage, "not a certificate");

        options.Tls.Key = garbage;
        var badKey = Assert.Throws<InvalidDataException>(() => new PeerEngine(options, new PeerEngineSetup()));
        options.Tls.Key = Path.Combine(ca.Directory, "origin.key");
        options.Tls.CaCertificate = garbage;
        var badCa = Assert.Throws<InvalidDataException>(() => new PeerEngine(options, new PeerEngineSetup()));

        Assert.Contains(garbage, badKey.Message, StringComparison.Ordinal);
        Assert.StartsWith("p2p:tls", badKey.Message, StringComparison.Ordinal);
        Assert.StartsWith($"p2p:tls:caCertificate {garbage}", badCa.Message, StringComparison.Ordinal);
    }

    private static P2POptions TlsOptions(P2PTlsMode mode, TestCertificateAuthority ca, string name)
    {
        var (certificate, key, _) = ca.Issue(name);
        return new P2POptions { Tls = { Mode = mode, Certificate = certificate, Key = key, CaCertificate = ca.CertificatePath } };
    }

    private static PeerAddress OriginOf(PeerEngine seeder) => new("127.0.0.1", seeder.LocalEndPoint!.Port, IsOrigin: true);

    /// <summary>Connects to <paramref name="seeder"/> over TLS as a peer presenting <paramref name="client"/> and returns the serial number of the certificate it presented.</summary>
    private static async Task<string> PresentedSerialAsync(PeerEngine seeder, TestCertificateAuthority ca, (string Certificate, string Key, X509Certificate2 Issued) client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, seeder.LocalEndPoint!.Port, timeout.Token);
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        using var certificate = X509Certificate2.CreateFromPemFile(client.Certificate, client.Key);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ApplicationProtocols = [new SslApplicationProtocol("shoal-p2p/1")],
            ClientCertificates = [certificate],
            RemoteCertificateValidationCallback = (_, certificate, chain, _) => certificate is not null && CertificateTrust.ChainsTo(certificate, chain, [ca.Certificate]),
        }, timeout.Token);
        Assert.Equal("shoal-p2p/1", tls.NegotiatedApplicationProtocol.ToString());
        using var presented = X509CertificateLoader.LoadCertificate(tls.RemoteCertificate!.GetRawCertData());
        return presented.SerialNumber;
    }

    /// <summary>A TCP relay on loopback to <c>127.0.0.1:targetPort</c> that keeps a copy of every byte the target sends.</summary>
    private sealed class Tap : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly MemoryStream _fromTarget = new();
        private readonly Lock _lock = new();
        private readonly List<Task> _relays = [];
        private readonly List<TcpClient> _clients = [];
        private readonly Task _accepting;

        public Tap(int targetPort)
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _accepting = AcceptAsync(targetPort);
        }

        public int Port { get; }

        public byte[] FromTarget()
        {
            lock (_lock)
            {
                return _fromTarget.ToArray();
            }
        }

        private async Task AcceptAsync(int targetPort)
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var target = new TcpClient();
                    await target.ConnectAsync(IPAddress.Loopback, targetPort, _stop.Token);
                    lock (_lock)
                    {
                        _clients.Add(client);
                        _clients.Add(target);
                        _relays.Add(CopyAsync(client.GetStream(), target.GetStream(), record: false));
                        _relays.Add(CopyAsync(target.GetStream(), client.GetStream(), record: true));
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task CopyAsync(NetworkStream from, NetworkStream to, bool record)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
                {
                    if (record)
                    {
                        lock (_lock)
                        {
                            _fromTarget.Write(buffer, 0, read);
                        }
                    }
                    await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                }
                to.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            Task[] relays;
            lock (_lock)
            {
                relays = [.. _relays];
                _clients.ForEach(c => c.Dispose());
            }
            await Task.WhenAll(relays);
            _stop.Dispose();
        }
    }
}
