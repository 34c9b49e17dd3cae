using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Shoal.Core.Security;
using System.Text;
using System.Text.Json;

namespace Shoal.Storage.Registry.Internal;

/// <summary>
/// The HTTP side of one registry: TLS trust, timeouts, redirects (the Authorization header is kept
/// only on same-origin hops), basic authentication and Docker token authentication with a token
/// cache per (realm, service, scope).
/// </summary>
internal sealed class RegistryClient : IDisposable
{
    /// <summary>Most redirects followed for one request.</summary>
    public const int MaxRedirects = 5;

    /// <summary>Largest error, token or tag-list answer read, in bytes.</summary>
    public const int MaxSmallBody = 4 * 1024 * 1024;

    /// <summary>Token lifetime when the token service does not say (the token spec's default).</summary>
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);

    /// <summary>At most this long before expiry a cached token is replaced.</summary>
    private static readonly TimeSpan MaxRefreshMargin = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly string? _username;
    private readonly string? _password;
    private readonly ConcurrentDictionary<TokenKey, Lazy<Task<CachedToken>>> _tokens = new();
    private volatile AuthChallenge? _challenge;
    private long _tokenRequests;

    public RegistryClient(RegistryBackendOptions options, TimeProvider? timeProvider = null, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Address = RegistryAddress.Parse(options.Address);
        Timeout = options.Timeout > TimeSpan.Zero ? options.Timeout : RegistryBackendOptions.DefaultTimeout;
        ChunkSize = options.ChunkSize > 0 ? options.ChunkSize : RegistryBackendOptions.DefaultChunkSize;
        Writable = options.Writable;
        _time = timeProvider ?? TimeProvider.System;
        _username = string.IsNullOrEmpty(options.Username) ? null : options.Username;
        _password = !string.IsNullOrEmpty(options.PasswordFile)
            ? File.ReadAllText(options.PasswordFile).Trim()
            : options.Password;
        if (_username is not null && _username.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException("a registry user name must not contain ':'", nameof(options));
        }
        _http = httpClient ?? CreateHttpClient(options, Timeout);
        _ownsHttp = httpClient is null;
    }

    public RegistryAddress Address { get; }

    public TimeSpan Timeout { get; }

    public long ChunkSize { get; }

    public bool Writable { get; }

    /// <summary>Token requests made so far (for diagnostics and tests).</summary>
    public long TokenRequests => Interlocked.Read(ref _tokenRequests);

    public static string PullScope(string repository) => $"repository:{repository}:pull";

    public static string PushScope(string repository) => $"repository:{repository}:pull,push";

    public static string DeleteScope(string repository) => $"repository:{repository}:delete";

    /// <summary>
    /// A token source cancelled by <paramref name="cancellationToken"/> or after <see cref="Timeout"/>;
    /// see <see cref="TimedOut"/> to tell the two apart.
    /// </summary>
    public CancellationTokenSource StartTimeout(CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(Timeout);
        return source;
    }

    /// <summary>The exception for a request that the timeout (not the caller) cancelled.</summary>
    public RegistryException TimedOut(string what, Exception inner)
        => new($"{what}: registry {Address} did not answer within {Timeout.TotalSeconds:0.#} s", HttpStatusCode.RequestTimeout, null, inner);

    /// <summary>
    /// Sends the request that <paramref name="create"/> builds, authenticating as the registry asks
    /// (at most one extra round trip per challenge), following GET/HEAD redirects. Returns once the
    /// headers are in; the caller owns the response. <paramref name="replayable"/> is false for a
    /// request whose body can be sent once only: it is then authenticated up front and not retried.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string? scope, bool replayable, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var auth = await AuthorizeAsync(scope, cancellationToken);
            var request = create();
            request.Headers.Authorization = auth.Header;
            var response = await SendFollowingRedirectsAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                return response;
            }
            var challenge = AuthChallenge.Select(response.Headers.WwwAuthenticate);
            var detail = await ErrorDetailAsync(response, cancellationToken);
            response.Dispose();
            if (challenge is null)
            {
                throw new RegistryException($"registry {Address} answered 401 Unauthorized without a Basic or Bearer challenge{detail}", HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            }
            _challenge = challenge;
            // Retrying helps only when the request can be sent again and the credentials were stale
            // (none yet, or a cached token the registry no longer accepts).
            if (!replayable || attempt >= 2 || (auth.Header is not null && auth.Fresh))
            {
                throw AuthenticationFailed(challenge, auth, scope, detail);
            }
            if (challenge.IsBearer)
            {
                _tokens.TryRemove(TokenKeyOf(challenge, scope), out _);
            }
        }
    }

    /// <summary>Reads a whole small answer, failing when it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<byte[]> ReadSmallAsync(HttpResponseMessage response, int limit, string what, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is { } declared && declared > limit)
        {
            throw new InvalidDataException($"{what} is {declared} bytes, more than the limit of {limit}");
        }
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                return buffer.ToArray();
            }
            if (buffer.Length + read > limit)
            {
                throw new InvalidDataException($"{what} is longer than the limit of {limit} bytes");
            }
            buffer.Write(chunk, 0, read);
        }
    }

    /// <summary>The exception for an unexpected answer, with the registry's error code and message when it sent one.</summary>
    public async Task<RegistryException> FailureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var (code, message) = await ReadErrorAsync(response, cancellationToken);
        var status = response.StatusCode;
        var text = new StringBuilder($"{what}: registry {Address} answered {(int)status} {response.ReasonPhrase}");
        if (code is not null || message is not null)
        {
            text.Append(" (").Append(code).Append(code is not null && message is not null ? ": " : string.Empty).Append(message).Append(')');
        }
        if (status == HttpStatusCode.Forbidden)
        {
            text.Append("; the configured user lacks access");
        }
        return new RegistryException(text.ToString(), status, code);
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        for (var hop = 0; ; hop++)
        {
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location
                || (request.Method != HttpMethod.Get && request.Method != HttpMethod.Head))
            {
                return response;
            }
            response.Dispose();
            if (hop >= MaxRedirects)
            {
                throw new RegistryException($"registry {Address} redirected {request.RequestUri} more than {MaxRedirects} times", response.StatusCode);
            }
            var target = location.IsAbsoluteUri ? location : new Uri(request.RequestUri!, location);
            if (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps)
            {
                throw new RegistryException($"registry {Address} redirected to a non-HTTP URL", response.StatusCode);
            }
            var next = new HttpRequestMessage(request.Method, target);
            foreach (var accept in request.Headers.Accept)
            {
                next.Headers.Accept.Add(accept);
            }
            next.Headers.Range = request.Headers.Range;
            // Storage URLs (S3 presigned and the like) carry their own credentials and reject ours.
            if (SameOrigin(request.RequestUri!, target))
            {
                next.Headers.Authorization = request.Headers.Authorization;
            }
            request = next;
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static bool SameOrigin(Uri a, Uri b)
        => string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
            && a.Port == b.Port;

    private async Task<Authorization> AuthorizeAsync(string? scope, CancellationToken cancellationToken)
    {
        var challenge = _challenge;
        if (challenge is null)
        {
            return default;
        }
        if (challenge.IsBasic)
        {
            if (_username is null)
            {
                throw new RegistryException($"registry {Address} requires basic authentication, but no username and password are configured", HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            }
            return new Authorization(BasicHeader(), Fresh: true, Basic: true);
        }
        var key = TokenKeyOf(challenge, scope);
        var (token, fresh) = await GetTokenAsync(key, cancellationToken);
        return new Authorization(new AuthenticationHeaderValue(AuthChallenge.Bearer, token), fresh, Basic: false);
    }

    private AuthenticationHeaderValue BasicHeader()
        => new(AuthChallenge.Basic, Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_username}:{_password}")));

    private static TokenKey TokenKeyOf(AuthChallenge challenge, string? scope)
        => new(challenge.Realm ?? string.Empty, challenge.Service ?? string.Empty, scope ?? challenge.Scope ?? string.Empty);

    private async Task<(string Token, bool Fresh)> GetTokenAsync(TokenKey key, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var created = false;
            var entry = _tokens.GetOrAdd(key, k =>
            {
                created = true;
                return new Lazy<Task<CachedToken>>(() => FetchTokenAsync(k, cancellationToken));
            });
            CachedToken token;
            try
            {
                token = await entry.Value.WaitAsync(cancellationToken);
            }
            catch
            {
                _tokens.TryRemove(KeyValuePair.Create(key, entry));
                throw;
            }
            if (token.RefreshAt > _time.GetUtcNow() || attempt > 0)
            {
                return (token.Value, created);
            }
            _tokens.TryRemove(KeyValuePair.Create(key, entry));
        }
    }

    private async Task<CachedToken> FetchTokenAsync(TokenKey key, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(key.Realm, UriKind.Absolute, out var realm) || (realm.Scheme != Uri.UriSchemeHttp && realm.Scheme != Uri.UriSchemeHttps))
        {
            throw new RegistryException($"registry {Address} named the token realm '{key.Realm}', which is not an absolute http(s) URL", HttpStatusCode.Unauthorized);
        }
        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : string.Empty);
        if (key.Service.Length > 0)
        {
            query.Append("service=").Append(Uri.EscapeDataString(key.Service)).Append('&');
        }
        if (key.Scope.Length > 0)
        {
            query.Append("scope=").Append(Uri.EscapeDataString(key.Scope)).Append('&');
        }
        var uri = new UriBuilder(realm) { Query = query.ToString().TrimEnd('&') }.Uri;
        Interlocked.Increment(ref _tokenRequests);
        using var timeout = StartTimeout(cancellationToken);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (_username is not null)
            {
                request.Headers.Authorization = BasicHeader();
            }
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await SendFollowingRedirectsAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var detail = await ErrorDetailAsync(response, timeout.Token);
                var who = _username is null ? "anonymous access" : $"the credentials of user '{_username}'";
                var message = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    ? $"token service {realm.GetLeftPart(UriPartial.Path)} refused {who} for scope '{key.Scope}' ({(int)response.StatusCode}){detail}"
                    : $"token service {realm.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode} {response.ReasonPhrase}{detail}";
                throw new RegistryException(message, response.StatusCode, "UNAUTHORIZED");
            }
            var body = await ReadSmallAsync(response, MaxSmallBody, "token answer", timeout.Token);
            return ParseToken(body, realm);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut("token request", ex);
        }
    }

    private CachedToken ParseToken(byte[] body, Uri realm)
    {
        string? token = null;
        var lifetime = DefaultTokenLifetime;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                foreach (var name in (string[])["token", "access_token"])
                {
                    if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
                    {
                        token = text;
                        break;
                    }
                }
                if (root.TryGetProperty("expires_in", out var expires) && expires.ValueKind == JsonValueKind.Number
                    && expires.TryGetInt64(out var seconds) && seconds > 0)
                {
                    lifetime = TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.FromDays(365).TotalSeconds));
                }
            }
        }
        catch (JsonException)
        {
        }
        if (token is null)
        {
            throw new RegistryException($"token service {realm.GetLeftPart(UriPartial.Path)} answered without a 'token' or 'access_token'", HttpStatusCode.Unauthorized);
        }
        var margin = TimeSpan.FromTicks(Math.Min(MaxRefreshMargin.Ticks, lifetime.Ticks / 10));
        return new CachedToken(token, _time.GetUtcNow() + lifetime - margin);
    }

    private RegistryException AuthenticationFailed(AuthChallenge challenge, Authorization auth, string? scope, string detail)
    {
        string message;
        if (auth.Basic)
        {
            message = $"registry {Address} rejected the credentials of user '{_username}'{detail}";
        }
        else if (challenge.IsBasic)
        {
            message = _username is null
                ? $"registry {Address} requires basic authentication, but no username and password are configured{detail}"
                : $"registry {Address} rejected the credentials of user '{_username}'{detail}";
        }
        else
        {
            message = $"registry {Address} rejected a token from {challenge.Realm} for scope '{scope ?? challenge.Scope}'"
                + (challenge.Error is { } error ? $" ({error})" : string.Empty) + detail;
        }
        return new RegistryException(message, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    private static async Task<string> ErrorDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var (code, message) = await ReadErrorAsync(response, cancellationToken);
        return code is null && message is null ? string.Empty : $": {code}{(code is not null && message is not null ? " " : string.Empty)}{message}";
    }

    /// <summary>The first error of a registry error body (<c>{"errors":[{"code","message"}]}</c>), or nulls.</summary>
    private static async Task<(string? Code, string? Message)> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            if (response.RequestMessage?.Method == HttpMethod.Head)
            {
                return (null, null);
            }
            var body = await ReadSmallAsync(response, 64 * 1024, "error answer", cancellationToken);
            if (body.Length == 0)
            {
                return (null, null);
            }
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                foreach (var error in errors.EnumerateArray())
                {
                    if (error.ValueKind == JsonValueKind.Object)
                    {
                        return (StringProperty(error, "code"), StringProperty(error, "message"));
                    }
                }
            }
            return (null, StringProperty(document.RootElement, "details") ?? StringProperty(document.RootElement, "error"));
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or IOException or HttpRequestException)
        {
            return (null, null);
        }
    }

    private static string? StringProperty(JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static HttpClient CreateHttpClient(RegistryBackendOptions options, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = timeout,
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseCookies = false,
            MaxConnectionsPerServer = 64,
        };
        if (CertificateTrust.ClientOptions(options.CaCertificate, options.InsecureSkipVerify) is { } ssl)
        {
            handler.SslOptions = ssl;
        }
        return new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    private readonly record struct Authorization(AuthenticationHeaderValue? Header, bool Fresh, bool Basic);

    private readonly record struct TokenKey(string Realm, string Service, string Scope);

    private sealed record CachedToken(string Value, DateTimeOffset RefreshAt);
}
