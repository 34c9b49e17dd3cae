using System.Buffers;
using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Shoal.Storage.Internal;

namespace Shoal.Storage.S3;

/// <summary>
/// A backend on Amazon S3 or an S3-compatible store: object <c>a/b</c> is key <c>&lt;prefix&gt;a/b</c>
/// in the configured bucket.
/// </summary>
/// <remarks>
/// Uploads up to <see cref="S3BackendOptions.MultipartThreshold"/> are one streamed PutObject;
/// larger ones are a multipart upload whose parts are read into one pooled buffer of
/// <see cref="S3BackendOptions.PartSize"/> bytes at a time, and which is aborted when anything
/// fails. Either way S3 makes the object visible only once it is complete.
/// </remarks>
public sealed class S3Backend : IBlobBackend, IDisposable
{
    private readonly IAmazonS3 _client;
    private readonly S3BackendOptions _options;
    private readonly string _keyPrefix;

    /// <summary>Connects with the given options.</summary>
    public S3Backend(S3BackendOptions options)
        : this(CreateClient(options, configure: null), options)
    {
    }

    /// <summary>Connects with the given options, letting <paramref name="configure"/> adjust the SDK configuration (tests: a trusted test certificate).</summary>
    internal S3Backend(S3BackendOptions options, Action<AmazonS3Config> configure)
        : this(CreateClient(options, configure), options)
    {
    }

    /// <summary>Uses <paramref name="client"/>, which it then owns.</summary>
    public S3Backend(IAmazonS3 client, S3BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Bucket))
        {
            throw new ArgumentException("an s3 backend needs a bucket", nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.PartSize, nameof(options.PartSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.PartSize, Array.MaxLength, nameof(options.PartSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MultipartThreshold, nameof(options.MultipartThreshold));
        _client = client;
        _options = options;
        _keyPrefix = KeyPrefix.Normalize(options.Prefix, "s3 prefix");
    }

    /// <inheritdoc />
    public async Task<BackendObject?> StatAsync(string name, CancellationToken cancellationToken)
    {
        var key = KeyOf(name, cancellationToken);
        try
        {
            var metadata = await _client.GetObjectMetadataAsync(_options.Bucket, key, cancellationToken);
            return new BackendObject(name, metadata.ContentLength, metadata.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime()) : null);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenReadAsync(string name, long offset, long? length, CancellationToken cancellationToken)
    {
        var key = KeyOf(name, cancellationToken);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        }
        if (length == 0)
        {
            // A range cannot say "no bytes": check existence and bounds, then answer an empty stream.
            return await EmptyRead.IfExistsAsync(this, name, offset, cancellationToken);
        }
        var request = new GetObjectRequest { BucketName = _options.Bucket, Key = key };
        if (offset > 0 || length is not null)
        {
            request.ByteRange = length is { } n ? new ByteRange(offset, offset + n - 1) : new ByteRange($"bytes={offset}-");
        }
        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(request, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The offset is at or past the end: at the end is an empty read, past it an error.
            return await EmptyRead.IfExistsAsync(this, name, offset, cancellationToken);
        }
        return new LimitedReadStream(response.ResponseStream, owner: response);
    }

    /// <inheritdoc />
    public async Task UploadAsync(string name, Stream content, long length, CancellationToken cancellationToken)
    {
        var key = KeyOf(name, cancellationToken);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length <= _options.MultipartThreshold)
        {
            var request = new PutObjectRequest
            {
                BucketName = _options.Bucket,
                Key = key,
                InputStream = new ExactLengthReadStream(content, length, name),
                AutoCloseStream = false,
                AutoResetStreamPosition = false,
                UseChunkEncoding = _options.ChunkedEncoding,
                DisablePayloadSigning = !_options.ChunkedEncoding,
            };
            request.Headers.ContentLength = length;
            await _client.PutObjectAsync(request, cancellationToken);
            return;
        }
        await MultipartUploadAsync(name, key, content, length, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<BackendListPage> ListAsync(string prefix, string? continuationToken, int limit, CancellationToken cancellationToken)
    {
        if (!BackendNames.IsValidPrefix(prefix, out var error))
        {
            throw new ArgumentException(error, nameof(prefix));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        cancellationToken.ThrowIfCancellationRequested();
        var request = new ListObjectsV2Request
        {
            BucketName = _options.Bucket,
            Prefix = _keyPrefix + prefix,
            MaxKeys = Math.Min(limit, 1000),
        };
        if (continuationToken is not null)
        {
            // Our token is the last name of the previous page: stable across stores and restarts.
            request.StartAfter = _keyPrefix + continuationToken;
        }
        var objects = new List<BackendObject>(request.MaxKeys ?? limit);
        var response = await _client.ListObjectsV2Async(request, cancellationToken);
        string? lastKey = null;
        foreach (var item in response.S3Objects ?? [])
        {
            lastKey = item.Key[_keyPrefix.Length..];
            if (BackendNames.IsValid(lastKey, out _))
            {
                objects.Add(new BackendObject(lastKey, item.Size ?? 0, item.LastModified is { } m ? new DateTimeOffset(m.ToUniversalTime()) : null));
            }
        }
        var more = response.IsTruncated == true && lastKey is not null;
        return new BackendListPage(objects, more ? lastKey : null);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var key = KeyOf(name, cancellationToken);
        // S3 answers a delete of a missing key with success; a HEAD first tells the two apart.
        if (await StatAsync(name, cancellationToken) is null)
        {
            return false;
        }
        await _client.DeleteObjectAsync(_options.Bucket, key, cancellationToken);
        return true;
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    private async Task MultipartUploadAsync(string name, string key, Stream content, long length, CancellationToken cancellationToken)
    {
        var start = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = key }, cancellationToken);
        var uploadId = start.UploadId;
        var partSize = (int)Math.Min(_options.PartSize, length);
        var buffer = ArrayPool<byte>.Shared.Rent(partSize);
        try
        {
            var parts = new List<PartETag>();
            var remaining = length;
            var number = 1;
            while (remaining > 0)
            {
                var size = (int)Math.Min(partSize, remaining);
                await ReadExactlyAsync(content, buffer.AsMemory(0, size), name, length - remaining, length, cancellationToken);
                using var body = new MemoryStream(buffer, 0, size, writable: false);
                var part = await _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _options.Bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartNumber = number,
                    PartSize = size,
                    InputStream = body,
                    UseChunkEncoding = _options.ChunkedEncoding,
                    DisablePayloadSigning = !_options.ChunkedEncoding,
                }, cancellationToken);
                parts.Add(new PartETag(number, part.ETag));
                remaining -= size;
                number++;
            }
            if (await content.ReadAsync(buffer.AsMemory(0, 1), cancellationToken) != 0)
            {
                throw new InvalidDataException($"content of '{name}' is longer than {length} bytes");
            }
            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _options.Bucket,
                Key = key,
                UploadId = uploadId,
                PartETags = parts,
            }, cancellationToken);
        }
        catch
        {
            await AbortQuietlyAsync(key, uploadId);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task AbortQuietlyAsync(string key, string uploadId)
    {
        try
        {
            // Not the caller's token: a cancelled upload must still release its parts.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = key, UploadId = uploadId }, timeout.Token);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or OperationCanceledException or HttpRequestException or IOException)
        {
            // The bucket's lifecycle rule for incomplete multipart uploads is the backstop.
        }
    }

    private static async Task ReadExactlyAsync(Stream content, Memory<byte> buffer, string name, long done, long length, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await content.ReadAsync(buffer[filled..], cancellationToken);
            if (read == 0)
            {
                throw new InvalidDataException($"content of '{name}' ended after {done + filled} of {length} bytes");
            }
            filled += read;
        }
    }

    private string KeyOf(string name, CancellationToken cancellationToken)
    {
        BackendNames.Validate(name);
        cancellationToken.ThrowIfCancellationRequested();
        return _keyPrefix + name;
    }

    private static AmazonS3Client CreateClient(S3BackendOptions options, Action<AmazonS3Config>? configure)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums only where S3 requires them: S3-compatible stores rarely speak the newer
            // trailing-checksum encodings; integrity is checked by digest above this layer.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrEmpty(options.Endpoint))
        {
            config.ServiceURL = options.Endpoint;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        configure?.Invoke(config);
        if (!string.IsNullOrEmpty(options.AccessKeyId))
        {
            if (string.IsNullOrEmpty(options.SecretAccessKey))
            {
                throw new ArgumentException("s3 accessKeyId needs secretAccessKey", nameof(options));
            }
            return new AmazonS3Client(new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey), config);
        }
        return new AmazonS3Client(config);
    }
}
