using System.Net;

namespace Shoal.Clients;

/// <summary>A Shoal service answered with an unexpected status; carries the status and the server's detail.</summary>
public sealed class ServiceException : Exception
{
    public ServiceException(string service, HttpStatusCode status, string detail)
        : base($"{service} answered {(int)status} {status}: {detail}")
    {
        Service = service;
        StatusCode = status;
        Detail = detail;
    }

    public ServiceException()
    {
        Service = Detail = string.Empty;
    }

    public ServiceException(string message) : base(message)
    {
        Service = Detail = string.Empty;
    }

    public ServiceException(string message, Exception innerException) : base(message, innerException)
    {
        Service = Detail = string.Empty;
    }

    /// <summary>Which service answered.</summary>
    public string Service { get; }

    /// <summary>Its HTTP status.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The body of its answer (ProblemDetails detail or raw text), truncated.</summary>
    public string Detail { get; }

    internal static async Task<ServiceException> FromResponseAsync(string service, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            body = string.Empty;
        }
        if (body.Length > 1000)
        {
            body = body[..1000];
        }
        return new ServiceException(service, response.StatusCode, body);
    }
}
