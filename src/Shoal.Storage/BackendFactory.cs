namespace Shoal.Storage;

/// <summary>Builds the backend that <see cref="BackendOptions"/> describe.</summary>
public static class BackendFactory
{
    /// <summary>Creates the configured backend.</summary>
    /// <exception cref="ArgumentException">The options name an unknown type or lack what the type needs.</exception>
    public static IBlobBackend Create(BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.LayoutError() is { } layoutError)
        {
            throw new ArgumentException(layoutError, nameof(options));
        }
        var backend = CreateUnthrottled(options);
        if (options.IsDistributionLayout)
        {
            backend = new DistributionLayoutBackend(backend);
        }
        return options.Bandwidth is { IsLimited: true } bandwidth ? ThrottledBackend.Create(backend, bandwidth) : backend;
    }

    private static IBlobBackend CreateUnthrottled(BackendOptions options)
    {
        if (string.Equals(options.Type, BackendOptions.S3Type, StringComparison.OrdinalIgnoreCase))
        {
            return new S3.S3Backend(options.S3 ?? throw new ArgumentException("an s3 backend needs an 's3' section", nameof(options)));
        }
        if (string.Equals(options.Type, BackendOptions.GcsType, StringComparison.OrdinalIgnoreCase))
        {
            return new Gcs.GcsBackend(options.Gcs ?? throw new ArgumentException("a gcs backend needs a 'gcs' section", nameof(options)));
        }
        if (string.Equals(options.Type, BackendOptions.HdfsType, StringComparison.OrdinalIgnoreCase))
        {
            return new Hdfs.HdfsBackend(options.Hdfs ?? throw new ArgumentException("an hdfs backend needs an 'hdfs' section", nameof(options)));
        }
        if (string.Equals(options.Type, BackendOptions.HttpType, StringComparison.OrdinalIgnoreCase))
        {
            return new Http.HttpBackend(options.Http ?? throw new ArgumentException("an http backend needs an 'http' section", nameof(options)));
        }
        if (string.Equals(options.Type, BackendOptions.FileSystem, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.Root))
            {
                throw new ArgumentException("a filesystem backend needs a root directory", nameof(options));
            }
            return new FileSystemBackend(options.Root);
        }
        if (string.Equals(options.Type, BackendOptions.RegistryType, StringComparison.OrdinalIgnoreCase))
        {
            return new Registry.RegistryBackend(options.Registry ?? throw new ArgumentException("a registry backend needs a 'registry' section with its address", nameof(options)));
        }
        throw new ArgumentException($"unknown backend type '{options.Type}'", nameof(options));
    }
}
