using Shoal.Storage.Internal;

namespace Shoal.Storage;

/// <summary>
/// Limits the bandwidth of another backend: bytes read from its streams (ingress) and bytes its
/// uploads consume (egress) are each taken from a token bucket refilling at the configured rate,
/// shared by all concurrent transfers. Metadata calls pass through unthrottled.
/// </summary>
public class ThrottledBackend : IBlobBackend, IDisposable
{
    private readonly TokenBucket? _ingress;
    private readonly TokenBucket? _egress;

    /// <summary>Wraps <paramref name="inner"/>, which it owns (disposes when disposable).</summary>
    public ThrottledBackend(IBlobBackend inner, BandwidthOptions limits, TimeProvider? time = null)
        : this(inner, Bucket(limits?.IngressBytesPerSecond ?? 0, time), Bucket(limits?.EgressBytesPerSecond ?? 0, time))
    {
    }

    private protected ThrottledBackend(IBlobBackend inner, TokenBucket? ingress, TokenBucket? egress)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        _ingress = ingress;
        _egress = egress;
    }

    /// <summary>The throttled backend.</summary>
    public IBlobBackend Inner { get; }

    /// <summary>
    /// Wraps <paramref name="inner"/>; the result also implements <see cref="INamespaceBoundBackend"/>
    /// (binding shares the limits) when <paramref name="inner"/> does.
    /// </summary>
    public static ThrottledBackend Create(IBlobBackend inner, BandwidthOptions limits, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var ingress = Bucket(limits.IngressBytesPerSecond, time);
        var egress = Bucket(limits.EgressBytesPerSecond, time);
        return inner is INamespaceBoundBackend
            ? new NamespaceBound(inner, ingress, egress)
            : new ThrottledBackend(inner, ingress, egress);
    }

    /// <inheritdoc />
    public Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken) => Inner.StatAsync(name, cancellationToken);

    /// <inheritdoc />
    public async Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
    {
        var stream = await Inner.OpenReadAsync(name, offset, length, cancellationToken);
        return stream is null || _ingress is null ? stream : new ThrottledReadStream(stream, _ingress, ownsInner: true);
    }

    /// <inheritdoc />
    public Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        BackendNames.Validate(name);
        ArgumentNullException.ThrowIfNull(content);
        // The backend pulls the content as fast as the bucket lets it.
        return _egress is null
            ? Inner.UploadAsync(name, content, length, cancellationToken)
            : UploadThrottledAsync(name, content, length, cancellationToken);
    }

    /// <inheritdoc />
    public Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
        => Inner.ListAsync(prefix, continuationToken, limit, cancellationToken);

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) => Inner.DeleteAsync(name, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the inner backend.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing && Inner is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    private async Task UploadThrottledAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        await using var throttled = new ThrottledReadStream(content, _egress!, ownsInner: false);
        await Inner.UploadAsync(name, throttled, length, cancellationToken);
    }

    private static TokenBucket? Bucket(long bytesPerSecond, TimeProvider? time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
        return bytesPerSecond == 0 ? null : new TokenBucket(bytesPerSecond, time ?? TimeProvider.System);
    }

    private sealed class NamespaceBound : ThrottledBackend, INamespaceBoundBackend
    {
        private readonly TokenBucket? _sharedIngress;
        private readonly TokenBucket? _sharedEgress;

        public NamespaceBound(IBlobBackend inner, TokenBucket? ingress, TokenBucket? egress)
            : base(inner, ingress, egress)
        {
            _sharedIngress = ingress;
            _sharedEgress = egress;
        }

        public IBlobBackend Bind(string ns)
            => new ThrottledBackend(((INamespaceBoundBackend)Inner).Bind(ns), _sharedIngress, _sharedEgress);
    }
}
