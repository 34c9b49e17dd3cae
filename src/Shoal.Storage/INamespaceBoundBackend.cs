namespace Shoal.Storage;

/// <summary>A backend that serves one namespace at a time, such as a registry (blobs live under a repository).</summary>
public interface INamespaceBoundBackend
{
    /// <summary>The backend as seen from namespace <paramref name="ns"/>.</summary>
    IBlobBackend Bind(string ns);
}
