using System.Text.RegularExpressions;

namespace Shoal.Storage;

/// <summary>Picks the backend of a namespace by ordered regular-expression rules.</summary>
public sealed class BackendRouter
{
    private readonly (Regex Pattern, IBlobBackend Backend, bool WriteThrough)[] _routes;

    /// <summary>Rules without write-through (see <see cref="IsWriteThrough"/>).</summary>
    public BackendRouter(IEnumerable<(Regex Pattern, IBlobBackend Backend)> routes)
        : this(routes.Select(r => (r.Pattern, r.Backend, false)))
    {
    }

    /// <summary>Rules, each with whether uploads of its namespaces are written through (see <see cref="IsWriteThrough"/>).</summary>
    public BackendRouter(IEnumerable<(Regex Pattern, IBlobBackend Backend, bool WriteThrough)> routes)
    {
        _routes = routes.ToArray();
    }

    /// <summary>True when no rule is configured.</summary>
    public bool IsEmpty => _routes.Length == 0;

    /// <summary>Every distinct configured backend (e.g. for readiness checks).</summary>
    public IEnumerable<IBlobBackend> Backends => _routes.Select(r => r.Backend).Distinct();

    /// <summary>
    /// Builds a router from configured rules, creating each backend with <paramref name="factory"/>;
    /// <paramref name="writeThrough"/> tells which rules write uploads through (default none).
    /// </summary>
    public static BackendRouter Create(IEnumerable<BackendRouteOptions> routes, Func<BackendOptions, IBlobBackend>? factory = null,
        Func<BackendRouteOptions, bool>? writeThrough = null)
    {
        factory ??= BackendFactory.Create;
        return new BackendRouter(routes.Select(r => (
            Compile(r.Namespace),
            factory(r.Backend ?? throw new ArgumentException("route without a backend", nameof(routes))),
            writeThrough?.Invoke(r) == true)));
    }

    /// <summary>
    /// True when the first rule matching namespace <paramref name="ns"/> writes through: its owner
    /// acknowledges an upload only once the blob is in the backend (instead of queueing the write).
    /// False when no rule matches.
    /// </summary>
    public bool IsWriteThrough(string? ns) => RuleOf(ns) is { } rule && _routes[rule].WriteThrough;

    /// <summary>
    /// The backend for namespace <paramref name="ns"/> (null or empty matches as the empty string),
    /// bound to the namespace when the backend is <see cref="INamespaceBoundBackend"/>; null when no rule matches.
    /// </summary>
    public IBlobBackend? Resolve(string? ns)
        => Match(ns) switch
        {
            INamespaceBoundBackend bound => bound.Bind(ns ?? string.Empty),
            var backend => backend,
        };

    /// <summary>
    /// Names the storage a blob of namespace <paramref name="ns"/> goes to, so that two namespaces
    /// get the same key exactly when they share it: the configured backend (by its first rule's
    /// position), and for a backend that binds namespaces (a registry: one repository each) the
    /// namespace too. Null when no rule matches.
    /// </summary>
    public string? StorageKey(string? ns)
    {
        if (RuleOf(ns) is not { } rule)
        {
            return null;
        }
        var backend = _routes[rule].Backend;
        var first = Array.FindIndex(_routes, r => ReferenceEquals(r.Backend, backend));
        return backend is INamespaceBoundBackend ? $"backend-{first}:{ns ?? string.Empty}" : $"backend-{first}";
    }

    /// <summary>
    /// The configured backend of the first rule matching namespace <paramref name="ns"/>, not bound
    /// to it (e.g. to reach a <see cref="Registry.RegistryBackend"/>'s tags); null when no rule matches.
    /// </summary>
    public IBlobBackend? Match(string? ns) => RuleOf(ns) is { } rule ? _routes[rule].Backend : null;

    /// <summary>The position of the first rule matching namespace <paramref name="ns"/> (null or empty matches as the empty string); null when none does.</summary>
    private int? RuleOf(string? ns)
    {
        var value = ns ?? string.Empty;
        for (var i = 0; i < _routes.Length; i++)
        {
            if (_routes[i].Pattern.IsMatch(value))
            {
                return i;
            }
        }
        return null;
    }

    internal static Regex Compile(string pattern)
        => new("^(?:" + pattern + ")$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, TimeSpan.FromMilliseconds(100));
}
