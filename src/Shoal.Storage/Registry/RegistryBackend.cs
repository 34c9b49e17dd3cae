using Shoal.Storage.Registry.Internal;

namespace Shoal.Storage.Registry;

/// <summary>
/// A Docker Registry V2 / OCI distribution registry as a backend: origins read blobs from it (a
/// pull-through cache of the registry) and, when <see cref="RegistryBackendOptions.Writable"/>,
/// write them to it. Blobs live under a repository, so the backend is used through
/// <see cref="Bind"/> (which <see cref="BackendRouter"/> does with the request's namespace):
/// object <c>blobs/sha256/&lt;hex&gt;</c> of namespace <c>team/app</c> is
/// <c>/v2/team/app/blobs/sha256:&lt;hex&gt;</c>.
/// </summary>
/// <remarks>
/// Authentication is anonymous, basic, or Docker token authentication (a 401 with a Bearer
/// challenge makes it fetch a token from the realm, cached per realm, service and scope until
/// shortly before it expires). Redirects to storage URLs are followed without the Authorization
/// header. Downloads are streamed as the registry sends them; callers verify digests. Registries
/// have no blob listing: <see cref="IBlobBackend.ListAsync"/> throws <see cref="NotSupportedException"/>.
/// Uploads (writable only) are one monolithic PUT up to <see cref="RegistryBackendOptions.ChunkSize"/>,
/// PATCH chunks beyond; a blob the repository already has (same digest and size) is not sent
/// again. Names other than blob names do not exist in a registry (stat/read answer null; upload
/// throws <see cref="NotSupportedException"/>).
/// </remarks>
public sealed class RegistryBackend : IBlobBackend, INamespaceBoundBackend, IDisposable
{
    private readonly RegistryClient _client;

    /// <summary>Creates the backend the options describe (the password file is read now).</summary>
    public RegistryBackend(RegistryBackendOptions options, TimeProvider? timeProvider = null)
        : this(new RegistryClient(options, timeProvider))
    {
    }

    internal RegistryBackend(RegistryClient client)
    {
        _client = client;
        Tags = new RegistryTagSource(client, ownsClient: false);
    }

    /// <summary>The registry's base URL.</summary>
    public Uri Address => _client.Address.BaseUri;

    /// <summary>Whether uploads and deletes are allowed.</summary>
    public bool Writable => _client.Writable;

    /// <summary>The registry's tags and manifests, sharing this backend's connections and tokens.</summary>
    public RegistryTagSource Tags { get; }

    internal RegistryClient Client => _client;

    /// <summary>
    /// The blobs of repository <paramref name="ns"/> (Docker Hub: <c>alpine</c> means <c>library/alpine</c>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="ns"/> is not a valid repository name.</exception>
    public IBlobBackend Bind(string ns) => new RepositoryBackend(_client, _client.Address.Repository(ns));

    /// <inheritdoc />
    public Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken) => throw Unbound();

    /// <inheritdoc />
    public Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken) => throw Unbound();

    /// <inheritdoc />
    public Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken) => throw Unbound();

    /// <inheritdoc />
    public Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken) => throw Unbound();

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) => throw Unbound();

    public void Dispose() => _client.Dispose();

    private InvalidOperationException Unbound()
        => new($"the registry backend {Address} stores blobs per repository: use it through a namespace (Bind, or a backend routing rule)");
}
