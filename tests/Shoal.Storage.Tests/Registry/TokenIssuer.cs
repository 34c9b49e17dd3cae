using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Shoal.Storage.Tests.Registry;

/// <summary>
/// A Docker token service for tests: issues ES256 JWTs with an <c>x5c</c> header holding its
/// self-signed certificate (which the registry trusts as its root bundle) and an <c>access</c>
/// claim granting every requested action. Counts the requests it answers.
/// </summary>
internal sealed class TokenIssuer : IAsyncDisposable
{
    public const string Service = "shoal-test-registry";
    public const string Issuer = "shoal-test-issuer";

    private readonly ECDsa _key;
    private readonly X509Certificate2 _certificate;
    private readonly WebApplication _app;
    private int _requests;

    private TokenIssuer(ECDsa key, X509Certificate2 certificate, WebApplication app)
    {
        _key = key;
        _certificate = certificate;
        _app = app;
    }

    public Uri Realm { get; private set; } = null!;

    /// <summary>Token requests answered so far (including refused ones).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The scopes requested, in order.</summary>
    public List<string> Scopes { get; } = [];

    /// <summary>When set, token requests must carry these basic credentials.</summary>
    public (string User, string Password)? RequiredCredentials { get; set; }

    /// <summary>The <c>expires_in</c> answered, in seconds.</summary>
    public int ExpiresIn { get; set; } = 300;

    /// <summary>Answer <c>access_token</c> instead of <c>token</c>.</summary>
    public bool UseAccessTokenField { get; set; }

    /// <summary>Issue tokens the registry cannot verify.</summary>
    public bool IssueInvalidTokens { get; set; }

    public static async Task<TokenIssuer> StartAsync()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=shoal test token issuer", key, HashAlgorithmName.SHA256);
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var issuer = new TokenIssuer(key, certificate, app);
        app.MapGet("/token", issuer.Handle);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        issuer.Realm = new Uri(new Uri(address), "/token");
        return issuer;
    }

    /// <summary>Writes the root certificate bundle and returns the registry's <c>auth:</c> section body.</summary>
    public string RegistryAuth(string directory)
    {
        var bundle = Path.Combine(directory, "token-root.pem");
        File.WriteAllText(bundle, _certificate.ExportCertificatePem() + "\n");
        return $"""
              token:
                realm: {Realm}
                service: {Service}
                issuer: {Issuer}
                rootcertbundle: {bundle}

            """;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _certificate.Dispose();
        _key.Dispose();
    }

    private IResult Handle(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        if (RequiredCredentials is { } required)
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{required.User}:{required.Password}"));
            if (context.Request.Headers.Authorization.ToString() != expected)
            {
                return Results.Json(new { details = "bad credentials" }, statusCode: StatusCodes.Status401Unauthorized);
            }
        }
        var access = new List<object>();
        foreach (var scope in context.Request.Query["scope"])
        {
            lock (Scopes)
            {
                Scopes.Add(scope!);
            }
            var first = scope!.IndexOf(':', StringComparison.Ordinal);
            var last = scope.LastIndexOf(':');
            if (first > 0 && last > first)
            {
                access.Add(new { type = scope[..first], name = scope[(first + 1)..last], actions = scope[(last + 1)..].Split(',') });
            }
        }
        var token = IssueInvalidTokens ? Sign(access, context.Request.Query["service"].ToString() + "-other") : Sign(access, Service);
        return Results.Json(new Dictionary<string, object>
        {
            [UseAccessTokenField ? "access_token" : "token"] = token,
            ["expires_in"] = ExpiresIn,
        });
    }

    private string Sign(List<object> access, string audience)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = JsonSerializer.SerializeToUtf8Bytes(new { typ = "JWT", alg = "ES256", x5c = new[] { Convert.ToBase64String(_certificate.RawData) } });
        var claims = JsonSerializer.SerializeToUtf8Bytes(new
        {
            iss = Issuer,
            sub = "shoal",
            aud = audience,
            exp = now + ExpiresIn,
            nbf = now - 10,
            iat = now,
            jti = Guid.NewGuid().ToString("N"),
            access,
        });
        var signingInput = Base64Url(header) + "." + Base64Url(claims);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
