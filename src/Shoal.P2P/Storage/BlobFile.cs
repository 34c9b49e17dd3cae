using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Shoal.Core.Blobs;

namespace Shoal.P2P.Storage;

/// <summary>
/// The bytes of one swarm's blob on disk and which of its pieces are verified. The swarm's loop is
/// the only writer of the verified set; connections and readers only read it (a piece, once
/// verified, stays verified), so <see cref="HasPiece"/> is safe from any thread.
/// </summary>
internal sealed class BlobFile : IDisposable
{
    private readonly int[] _verified;
    private int _verifiedCount;
    private readonly IDisposable? _owner;

    private BlobFile(MetaInfo info, SafeFileHandle handle, bool writable, IDisposable? owner)
    {
        Info = info;
        Handle = handle;
        _owner = owner;
        IsWritable = writable;
        _verified = new int[info.PieceCount];
    }

    /// <summary>The blob's metainfo.</summary>
    public MetaInfo Info { get; }

    /// <summary>The open file: read with <see cref="RandomAccess"/> at piece offsets; stays valid when the file is renamed (commit).</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>True for a partial download (pieces are written into it).</summary>
    public bool IsWritable { get; }

    /// <summary>How many pieces are verified.</summary>
    public int VerifiedCount => Volatile.Read(ref _verifiedCount);

    /// <summary>True when every piece is verified.</summary>
    public bool IsComplete => VerifiedCount == Info.PieceCount;

    /// <summary>A complete blob (seeding) read through <paramref name="stream"/>'s handle, which it owns: every piece verified, read-only.</summary>
    public static BlobFile OpenComplete(MetaInfo info, FileStream stream)
    {
        var file = new BlobFile(info, stream.SafeFileHandle, writable: false, stream);
        for (var i = 0; i < info.PieceCount; i++)
        {
            file.MarkVerified(i);
        }
        return file;
    }

    /// <summary>
    /// A partial download's file, sized to the blob, with no piece verified yet. Opened without
    /// read-ahead (<see cref="FileOptions.RandomAccess"/>): the file is sparse until complete, and
    /// read-ahead behind a block passed on or a reader at the frontier ran on into the holes, filling
    /// the page cache with zeroed pages that the next pieces overwrite (3.5 % of the machine in the
    /// swarm benchmark at 16 hosts). What is read was written moments ago, and is cached.
    /// </summary>
    public static BlobFile OpenPartial(MetaInfo info, string path)
    {
        var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous | FileOptions.RandomAccess);
        try
        {
            if (RandomAccess.GetLength(handle) != info.Length)
            {
                RandomAccess.SetLength(handle, info.Length);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return new BlobFile(info, handle, writable: true, owner: null);
    }

    /// <summary>True when piece <paramref name="index"/> is verified and stored (any thread).</summary>
    public bool HasPiece(int index) => (uint)index < (uint)_verified.Length && Volatile.Read(ref _verified[index]) != 0;

    /// <summary>Records that piece <paramref name="index"/> is verified and on disk (the owner loop only). False when it already was.</summary>
    public bool MarkVerified(int index)
    {
        if (Interlocked.Exchange(ref _verified[index], 1) != 0)
        {
            return false;
        }
        Interlocked.Increment(ref _verifiedCount);
        return true;
    }

    /// <summary>The verified pieces as a bitfield.</summary>
    public Bitfield Snapshot()
    {
        var bits = new Bitfield(Info.PieceCount);
        for (var i = 0; i < _verified.Length; i++)
        {
            if (Volatile.Read(ref _verified[i]) != 0)
            {
                bits.Set(i);
            }
        }
        return bits;
    }

    /// <summary>
    /// Writes a verified piece at its offset (called by the connection that assembled it). Synchronous:
    /// the write goes to the page cache, quicker than the thread-pool round trip an asynchronous file
    /// write takes on Linux.
    /// </summary>
    public void WritePiece(int index, ReadOnlySpan<byte> data)
        => RandomAccess.Write(Handle, data, Info.PieceOffset(index));

    /// <summary>Reads piece <paramref name="index"/> back and checks its hash (resume: trust nothing the disk says).</summary>
    public async ValueTask<bool> ReverifyAsync(int index, CancellationToken cancellationToken)
    {
        var size = Info.PieceSize(index);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var done = 0;
            while (done < size)
            {
                var read = await RandomAccess.ReadAsync(Handle, buffer.AsMemory(done, size - done), Info.PieceOffset(index) + done, cancellationToken);
                if (read == 0)
                {
                    return false;
                }
                done += read;
            }
            return Info.VerifyPiece(index, buffer.AsSpan(0, size));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_owner is not null)
        {
            _owner.Dispose();
        }
        else
        {
            Handle.Dispose();
        }
    }
}
