namespace Shoal.Storage;

/// <summary>Builds the backend that <see cref="BackendOptions"/> describe.</summary>
public static class BackendFactory
{
    /// <summary>Creates the configured backend.</summary>
    /// <exception cref="ArgumentException">The options name an unknown type or lack what the type needs.</exception>
    public static IBlobBackend Create(BackendOptions options)
    {
        if (string.Equals(options.Type, BackendOptions.FileSystem, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.Root))
            {
                throw new ArgumentException("a filesystem backend needs a root directory", nameof(options));
            }
            return new FileSystemBackend(options.Root);
        }
        throw new ArgumentException($"unknown backend type '{options.Type}'", nameof(options));
    }
}
