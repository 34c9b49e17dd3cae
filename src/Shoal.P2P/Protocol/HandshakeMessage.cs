using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.P2P.Protocol;

/// <summary>
/// <c>Handshake</c>: the first frame each side sends. It names the swarm (info hash), the blob
/// (digest), the sender (peer id, role flags), the piece count (so the bitfield that follows can be
/// sized and checked before any metainfo lookup), the namespace the blob is fetched under, and the
/// highest protocol version the sender speaks. Once per connection, so decoding may allocate.
/// </summary>
public sealed class HandshakeMessage : IPeerMessage
{
    /// <summary>The version-1 payload bytes before the namespace.</summary>
    public const int FixedPayloadLength = 111;

    private const int InfoHashLength = 32;
    private readonly int _namespaceBytes;

    public HandshakeMessage(int version, PeerFlags flags, string infoHash, Digest digest, PeerId peerId, int pieceCount, string? @namespace)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(version, ushort.MaxValue);
        ArgumentNullException.ThrowIfNull(infoHash);
        Span<byte> scratch = stackalloc byte[InfoHashLength];
        if (infoHash.Length != InfoHashLength * 2 || Convert.FromHexString(infoHash, scratch, out _, out _) != OperationStatus.Done)
        {
            throw new ArgumentException("The info hash is 64 hex characters.", nameof(infoHash));
        }
        if (digest.IsEmpty)
        {
            throw new ArgumentException("The digest is empty.", nameof(digest));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pieceCount, ProtocolConstants.MaxPieceCount);
        @namespace ??= "";
        _namespaceBytes = Encoding.UTF8.GetByteCount(@namespace);
        if (_namespaceBytes > ProtocolConstants.MaxNamespaceLength)
        {
            throw new ArgumentException($"The namespace is longer than {ProtocolConstants.MaxNamespaceLength} UTF-8 bytes.", nameof(@namespace));
        }
        Version = version;
        Flags = flags;
        InfoHash = infoHash.ToLowerInvariant();
        Digest = digest;
        PeerId = peerId;
        PieceCount = pieceCount;
        Namespace = @namespace;
    }

    /// <summary>The handshake for the swarm of <paramref name="info"/>, at <see cref="ProtocolConstants.CurrentVersion"/>.</summary>
    public static HandshakeMessage For(MetaInfo info, PeerId peerId, string? @namespace, PeerFlags flags = PeerFlags.None)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new HandshakeMessage(ProtocolConstants.CurrentVersion, flags, info.InfoHash, info.Digest, peerId, info.PieceCount, @namespace);
    }

    /// <summary>The highest protocol version the sender speaks.</summary>
    public int Version { get; }

    /// <summary>The sender's role.</summary>
    public PeerFlags Flags { get; }

    /// <summary>True when the sender is an origin.</summary>
    public bool IsOrigin => (Flags & PeerFlags.Origin) != 0;

    /// <summary>True when the sender asks to be let in even if the receiver is full (<see cref="PeerFlags.Needy"/>).</summary>
    public bool IsNeedy => (Flags & PeerFlags.Needy) != 0;

    /// <summary>The swarm: <see cref="MetaInfo.InfoHash"/> as 64 lowercase hex characters.</summary>
    public string InfoHash { get; }

    /// <summary>The blob's digest.</summary>
    public Digest Digest { get; }

    /// <summary>The sender's id.</summary>
    public PeerId PeerId { get; }

    /// <summary>The number of pieces of the blob.</summary>
    public int PieceCount { get; }

    /// <summary>The namespace (repository) the blob is fetched under; may be empty.</summary>
    public string Namespace { get; }

    /// <inheritdoc/>
    public MessageType Type => MessageType.Handshake;

    /// <inheritdoc/>
    public int ByteLength => ProtocolConstants.HeaderLength + FixedPayloadLength + _namespaceBytes;

    /// <summary>True when this handshake names the swarm of <paramref name="info"/> (info hash, digest and piece count).</summary>
    public bool Matches(MetaInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return string.Equals(InfoHash, info.InfoHash, StringComparison.Ordinal) && Digest == info.Digest && PieceCount == info.PieceCount;
    }

    /// <inheritdoc/>
    public int Encode(Span<byte> destination)
    {
        var at = Frame.WriteHeader(destination, Type, FixedPayloadLength + _namespaceBytes, ByteLength);
        var payload = destination[at..ByteLength];
        ProtocolConstants.Magic.CopyTo(payload);
        BinaryPrimitives.WriteUInt16BigEndian(payload[5..], (ushort)Version);
        BinaryPrimitives.WriteUInt16BigEndian(payload[7..], (ushort)Flags);
        Convert.FromHexString(InfoHash, payload.Slice(9, InfoHashLength), out _, out _);
        Convert.FromHexString(Digest.Hex, payload.Slice(41, SHA256.HashSizeInBytes), out _, out _);
        PeerId.WriteTo(payload.Slice(73, PeerId.Length));
        BinaryPrimitives.WriteUInt32BigEndian(payload[105..], (uint)PieceCount);
        BinaryPrimitives.WriteUInt16BigEndian(payload[109..], (ushort)_namespaceBytes);
        Encoding.UTF8.GetBytes(Namespace, payload[FixedPayloadLength..]);
        return ByteLength;
    }

    /// <summary>Decodes a handshake payload (without the frame header); throws <see cref="ProtocolException"/> when malformed.</summary>
    internal static HandshakeMessage Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < FixedPayloadLength)
        {
            throw new ProtocolException($"handshake of {payload.Length} bytes is shorter than {FixedPayloadLength}");
        }
        if (!payload[..5].SequenceEqual(ProtocolConstants.Magic))
        {
            throw new ProtocolException("handshake magic is not SHOAL: not a Shoal peer");
        }
        int version = BinaryPrimitives.ReadUInt16BigEndian(payload[5..]);
        if (version == 0)
        {
            throw new ProtocolException("handshake version 0 is invalid");
        }
        var flags = (PeerFlags)BinaryPrimitives.ReadUInt16BigEndian(payload[7..]);
        var infoHash = Convert.ToHexStringLower(payload.Slice(9, InfoHashLength));
        var digest = Digest.FromSha256(payload.Slice(41, SHA256.HashSizeInBytes));
        var peerId = PeerId.FromBytes(payload.Slice(73, PeerId.Length));
        var pieceCount = BinaryPrimitives.ReadUInt32BigEndian(payload[105..]);
        if (pieceCount > ProtocolConstants.MaxPieceCount)
        {
            throw new ProtocolException($"handshake piece count {pieceCount} exceeds {ProtocolConstants.MaxPieceCount}");
        }
        int namespaceLength = BinaryPrimitives.ReadUInt16BigEndian(payload[109..]);
        if (namespaceLength > ProtocolConstants.MaxNamespaceLength)
        {
            throw new ProtocolException($"handshake namespace of {namespaceLength} bytes exceeds {ProtocolConstants.MaxNamespaceLength}");
        }
        var end = FixedPayloadLength + namespaceLength;
        if (payload.Length < end)
        {
            throw new ProtocolException("handshake namespace runs past the end of the frame");
        }
        // A later version may append fields; only a version-1 sender must end exactly here.
        if (version == 1 && payload.Length != end)
        {
            throw new ProtocolException("version-1 handshake has trailing bytes");
        }
        var nsBytes = payload.Slice(FixedPayloadLength, namespaceLength);
        if (!Utf8.IsValid(nsBytes))
        {
            throw new ProtocolException("handshake namespace is not valid UTF-8");
        }
        return new HandshakeMessage(version, flags, infoHash, digest, peerId, (int)pieceCount, Encoding.UTF8.GetString(nsBytes));
    }

    /// <summary>Decodes a handshake payload held in a possibly segmented buffer.</summary>
    internal static HandshakeMessage Decode(in ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment)
        {
            return Decode(payload.FirstSpan);
        }
        // Bounded by MaxHandshakeFrameLength before we get here.
        Span<byte> copy = stackalloc byte[(int)payload.Length];
        payload.CopyTo(copy);
        return Decode(copy);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Handshake(v{Version}, {Flags}, {InfoHash}, {Digest}, {PeerId}, {PieceCount} pieces, '{Namespace}')";
}
