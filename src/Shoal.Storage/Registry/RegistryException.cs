using System.Net;

namespace Shoal.Storage.Registry;

/// <summary>
/// A registry (or its token service) could not answer a request: authentication failed, access
/// was denied, or it answered an unexpected status. <see cref="HttpRequestException.StatusCode"/>
/// holds the registry's status when there was one.
/// </summary>
public class RegistryException : HttpRequestException
{
    public RegistryException()
    {
    }

    public RegistryException(string message) : base(message)
    {
    }

    public RegistryException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    public RegistryException(string message, HttpStatusCode? statusCode, string? errorCode = null, Exception? innerException = null)
        : base(message, innerException, statusCode)
    {
        ErrorCode = errorCode;
    }

    /// <summary>The registry's error code (<c>UNAUTHORIZED</c>, <c>DENIED</c>, …) when its answer had one.</summary>
    public string? ErrorCode { get; }
}
