namespace Shoal.Core.Registry;

/// <summary>The error codes of the OCI distribution spec (and the Docker registry API).</summary>
public enum RegistryErrorCode
{
    BLOB_UNKNOWN,
    BLOB_UPLOAD_INVALID,
    BLOB_UPLOAD_UNKNOWN,
    DIGEST_INVALID,
    MANIFEST_BLOB_UNKNOWN,
    MANIFEST_INVALID,
    MANIFEST_UNKNOWN,
    NAME_INVALID,
    NAME_UNKNOWN,
    SIZE_INVALID,
    TAG_INVALID,
    UNAUTHORIZED,
    DENIED,
    UNSUPPORTED,
    TOOMANYREQUESTS,
    RANGE_INVALID,
    PAGINATION_NUMBER_INVALID,
    UNAVAILABLE,
}
