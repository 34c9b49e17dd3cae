using Shoal.Storage;

namespace Shoal.BuildIndex.Internal;

/// <summary>
/// The backends of <see cref="BuildIndexOptions.Backends"/>, created once and shared by the
/// pull-through of registries (<see cref="UpstreamIndex"/>) and the tag storage
/// (<see cref="RoutedTagStore"/>); disposes them.
/// </summary>
internal sealed class IndexBackends : IDisposable
{
    private readonly Dictionary<IBlobBackend, BackendOptions> _options = new(ReferenceEqualityComparer.Instance);

    public IndexBackends(BuildIndexOptions options)
    {
        Router = BackendRouter.Create(options.Backends, backendOptions =>
        {
            var backend = BackendFactory.Create(backendOptions);
            _options[backend] = backendOptions;
            return backend;
        });
    }

    /// <summary>The ordered namespace rules.</summary>
    public BackendRouter Router { get; }

    /// <summary>Every configured backend with its options.</summary>
    public IEnumerable<(IBlobBackend Backend, BackendOptions Options)> All => _options.Select(e => (e.Key, e.Value));

    /// <summary>The options <paramref name="backend"/> was created from.</summary>
    public BackendOptions OptionsOf(IBlobBackend backend) => _options[backend];

    public void Dispose()
    {
        foreach (var backend in _options.Keys)
        {
            (backend as IDisposable)?.Dispose();
        }
    }
}
