using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Shoal.Core;
using Shoal.Core.Registry;
using Shoal.Storage.Registry;
using Shoal.TestKit;

namespace Shoal.Storage.Tests.Registry;

/// <summary>A registry with htpasswd (bcrypt) basic authentication and blob deletion disabled.</summary>
public sealed class HtpasswdRegistryFixture : IAsyncLifetime
{
    public const string User = "shoal";
    public const string Password = "s3cret-pass";

    internal DockerRegistry Registry { get; private set; } = null!;

    public Uri Url => Registry.Url;

    public async Task InitializeAsync()
    {
        Registry = await DockerRegistry.StartAsync(configureAuth: DockerRegistry.BasicAuth(User, Password), deleteEnabled: false);
    }

    public Task DisposeAsync()
    {
        Registry?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>A registry with Docker token authentication, trusting <see cref="TokenIssuer"/>'s certificate.</summary>
public sealed class TokenRegistryFixture : IAsyncLifetime
{
    internal TokenIssuer Issuer { get; private set; } = null!;

    internal DockerRegistry Registry { get; private set; } = null!;

    public Uri Url => Registry.Url;

    public async Task InitializeAsync()
    {
        Issuer = await TokenIssuer.StartAsync();
        Registry = await DockerRegistry.StartAsync(configureAuth: directory => Task.FromResult(Issuer.RegistryAuth(directory)));
    }

    public async Task DisposeAsync()
    {
        Registry?.Dispose();
        if (Issuer is not null)
        {
            await Issuer.DisposeAsync();
        }
    }
}

public sealed class RegistryAuthTests : IClassFixture<HtpasswdRegistryFixture>, IClassFixture<TokenRegistryFixture>, IDisposable
{
    private readonly HtpasswdRegistryFixture _basic;
    private readonly TokenRegistryFixture _token;
    private readonly TempDirectory _directory = new();

    public RegistryAuthTests(HtpasswdRegistryFixture basic, TokenRegistryFixture token)
    {
        _basic = basic;
        _token = token;
        _token.Issuer.RequiredCredentials = null;
        _token.Issuer.UseAccessTokenField = false;
        _token.Issuer.IssueInvalidTokens = false;
        _token.Issuer.ExpiresIn = 300;
    }

    public void Dispose() => _directory.Dispose();

    [E2EFact(ToolCheck.DockerRegistry, ToolCheck.Htpasswd)]
    public async Task BasicAuth_PasswordFile_UploadsAndReads()
    {
        var passwordFile = Path.Combine(_directory.Path, "password");
        await File.WriteAllTextAsync(passwordFile, HtpasswdRegistryFixture.Password + "\n");
        using var backend = new RegistryBackend(new RegistryBackendOptions
        {
            Address = _basic.Url.ToString(),
            Username = HtpasswdRegistryFixture.User,
            PasswordFile = passwordFile,
            Writable = true,
        });
        var repo = backend.Bind("basic/app");
        var content = RegistryPush.RandomBytes(70_000, 20);
        var name = BackendNames.ForBlob(Digest.Compute(content));

        await repo.UploadAsync(name, new MemoryStream(content), content.Length, default);

        Assert.Equal(content.Length, (await repo.StatAsync(name, default))!.Size);
        Assert.Equal(content[100..200], await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, 100, 100, default)));
        var delete = await Assert.ThrowsAsync<NotSupportedException>(() => repo.DeleteAsync(name, default));
        Assert.Contains("does not allow deleting", delete.Message, StringComparison.Ordinal);
    }

    [E2EFact(ToolCheck.DockerRegistry, ToolCheck.Htpasswd)]
    public async Task BasicAuth_WrongPassword_ClearError()
    {
        using var backend = new RegistryBackend(new RegistryBackendOptions
        {
            Address = _basic.Url.ToString(),
            Username = HtpasswdRegistryFixture.User,
            Password = "wrong",
        });

        var error = await Assert.ThrowsAsync<RegistryException>(() => backend.Bind("basic/app").StatAsync(BackendNames.ForBlob(Digest.Compute([1])), default));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("rejected the credentials of user 'shoal'", error.Message, StringComparison.Ordinal);
    }

    [E2EFact(ToolCheck.DockerRegistry, ToolCheck.Htpasswd)]
    public async Task BasicAuth_NoCredentials_ClearError()
    {
        using var tags = new RegistryTagSource(new RegistryBackendOptions { Address = _basic.Url.ToString() });

        var error = await Assert.ThrowsAsync<RegistryException>(() => tags.ResolveTagAsync("basic/app", "latest"));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("requires basic authentication", error.Message, StringComparison.Ordinal);
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task TokenAuth_RequestWithoutToken_401ThenTokenFetchedOnceAndCached()
    {
        var content = RegistryPush.RandomBytes(50_000, 21);
        var name = BackendNames.ForBlob(Digest.Compute(content));
        using (var writer = new RegistryBackend(new RegistryBackendOptions { Address = _token.Url.ToString(), Writable = true }))
        {
            await writer.Bind("token/app").UploadAsync(name, new MemoryStream(content), content.Length, default);
        }
        using var http = new HttpClient();
        using var anonymous = await http.GetAsync(new Uri(_token.Url, $"v2/token/app/blobs/{Digest.Compute(content)}"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var challenge = Assert.Single(anonymous.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains(_token.Issuer.Realm.ToString(), challenge.Parameter, StringComparison.Ordinal);

        using var reader = new RegistryBackend(new RegistryBackendOptions { Address = _token.Url.ToString() });
        var before = _token.Issuer.Requests;
        var repo = reader.Bind("token/app");
        Assert.Equal(content.Length, (await repo.StatAsync(name, default))!.Size);
        Assert.Equal(content, await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, 0, null, default)));
        Assert.Equal(content[10..20], await RegistryBackendTests.ReadAllAsync(await repo.OpenReadAsync(name, 10, 10, default)));
        Assert.NotNull(await repo.StatAsync(name, default));

        Assert.Equal(1, _token.Issuer.Requests - before);
        Assert.Equal(1, reader.Client.TokenRequests);
        lock (_token.Issuer.Scopes)
        {
            Assert.Contains("repository:token/app:pull", _token.Issuer.Scopes);
            Assert.Contains("repository:token/app:pull,push", _token.Issuer.Scopes);
        }
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task TokenAuth_TokenNearExpiry_FetchesANewOne()
    {
        var content = RegistryPush.RandomBytes(1000, 22);
        var name = BackendNames.ForBlob(Digest.Compute(content));
        using (var writer = new RegistryBackend(new RegistryBackendOptions { Address = _token.Url.ToString(), Writable = true }))
        {
            await writer.Bind("token/expiry").UploadAsync(name, new MemoryStream(content), content.Length, default);
        }
        _token.Issuer.ExpiresIn = 120;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var reader = new RegistryBackend(new RegistryBackendOptions { Address = _token.Url.ToString() }, time);
        var repo = reader.Bind("token/expiry");

        Assert.NotNull(await repo.StatAsync(name, default));
        time.Advance(TimeSpan.FromSeconds(100));
        Assert.NotNull(await repo.StatAsync(name, default));
        Assert.Equal(1, reader.Client.TokenRequests);
        time.Advance(TimeSpan.FromSeconds(10)); // 110 s: within the refresh margin (12 s) of the 120 s lifetime.
        Assert.NotNull(await repo.StatAsync(name, default));
        Assert.Equal(2, reader.Client.TokenRequests);
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task TokenAuth_TokenServiceWithCredentials_AccessTokenFieldAccepted()
    {
        _token.Issuer.RequiredCredentials = ("tokenuser", "tokenpass");
        _token.Issuer.UseAccessTokenField = true;
        var manifest = await PushImageWithTokenAsync("token/tags", "v1");
        using var tags = new RegistryTagSource(new RegistryBackendOptions { Address = _token.Url.ToString(), Username = "tokenuser", Password = "tokenpass" });

        var resolved = await tags.ResolveTagAsync("token/tags", "v1");
        var fetched = await tags.GetManifestAsync("token/tags", "v1");

        Assert.Equal(Digest.Compute(manifest), resolved!.Digest);
        Assert.Equal(manifest, fetched!.Content);
        Assert.Contains("v1", (await tags.ListTagsAsync("token/tags")).Tags);
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task TokenAuth_TokenServiceRefusesCredentials_ClearError()
    {
        _token.Issuer.RequiredCredentials = ("tokenuser", "tokenpass");
        using var backend = new RegistryBackend(new RegistryBackendOptions { Address = _token.Url.ToString(), Username = "tokenuser", Password = "wrong" });

        var error = await Assert.ThrowsAsync<RegistryException>(() => backend.Bind("token/app").StatAsync(BackendNames.ForBlob(Digest.Compute([1])), default));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("token service", error.Message, StringComparison.Ordinal);
        Assert.Contains("tokenuser", error.Message, StringComparison.Ordinal);
    }

    [E2EFact(ToolCheck.DockerRegistry)]
    public async Task TokenAuth_RegistryRejectsFreshToken_ClearError()
    {
        _token.Issuer.IssueInvalidTokens = true;
        using var backend = new RegistryBackend(new RegistryBackendOptions { Address = _token.Url.ToString() });

        var error = await Assert.ThrowsAsync<RegistryException>(() => backend.Bind("token/app").StatAsync(BackendNames.ForBlob(Digest.Compute([1])), default));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Contains("rejected a token", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, backend.Client.TokenRequests);
    }

    /// <summary>Pushes an image with a plain HttpClient and a token fetched by hand.</summary>
    private async Task<byte[]> PushImageWithTokenAsync(string repository, string tag)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{_token.Issuer.Realm}?service={TokenIssuer.Service}&scope=repository:{repository}:pull,push");
        if (_token.Issuer.RequiredCredentials is { } credentials)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.User}:{credentials.Password}")));
        }
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var token = (json.RootElement.TryGetProperty("token", out var t) ? t : json.RootElement.GetProperty("access_token")).GetString();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await RegistryPush.PushImageAsync(http, _token.Url, repository, tag, RegistryPush.RandomBytes(300, 23));
    }
}
