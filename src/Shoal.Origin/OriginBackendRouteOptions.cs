using Shoal.Storage;

namespace Shoal.Origin;

/// <summary>
/// One namespace rule of <see cref="OriginOptions.Backends"/>: the backend of the matching
/// namespaces and how uploads reach it.
/// <code>
/// backends:
///   - namespace: ".*"
///     backend: { type: filesystem, root: /srv/registry, layout: distribution }
///     writeThrough: true
/// </code>
/// </summary>
public sealed class OriginBackendRouteOptions : BackendRouteOptions
{
    /// <summary>
    /// How an upload to a namespace of this rule is acknowledged. <c>false</c> (write-back): once
    /// the blob is verified, durable in the cache and its write to the backend is queued; the
    /// backend gets it moments later. <c>true</c> (write-through): only once the blob is in the
    /// backend as well; a backend that cannot take it fails the upload with 503 and nothing is
    /// acknowledged. Default: <c>true</c> for a backend in <c>layout: distribution</c> (a registry
    /// sharing the storage must find every blob Shoal acknowledged), else <c>false</c>.
    /// </summary>
    public bool? WriteThrough { get; set; }

    /// <summary>The effective mode: <see cref="WriteThrough"/>, or the default of the backend's layout.</summary>
    internal bool IsWriteThrough => WriteThrough ?? Backend?.IsDistributionLayout == true;
}
