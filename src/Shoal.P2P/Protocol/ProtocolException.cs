namespace Shoal.P2P.Protocol;

/// <summary>
/// The peer broke the wire protocol (or the swarm it names does not match ours). The only exception
/// the decoder throws for bad input; <see cref="Code"/> is what to send back in an
/// <see cref="MessageType.Error"/> message before closing.
/// </summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException()
        : this(PeerErrorCode.ProtocolViolation, "protocol violation")
    {
    }

    public ProtocolException(string message)
        : this(PeerErrorCode.ProtocolViolation, message)
    {
    }

    public ProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = PeerErrorCode.ProtocolViolation;
    }

    public ProtocolException(PeerErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>The error code to report to the peer.</summary>
    public PeerErrorCode Code { get; }
}
