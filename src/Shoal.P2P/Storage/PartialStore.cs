using System.Security.Cryptography;
using Shoal.Core;
using Shoal.Core.Blobs;

namespace Shoal.P2P.Storage;

/// <summary>
/// In-progress downloads on disk, so a restarted agent keeps the pieces it verified: per blob a
/// directory <c>{root}/{hex}</c> with <c>data</c> (the blob's bytes at their offsets, sized to the
/// blob) and <c>state</c> (the info hash, then the wire bitfield of pieces written). The state is
/// written after the data and replaced atomically; on open every piece it marks is read back and
/// hashed before it is trusted, so a crash between the two costs a re-download, never bad bytes.
/// </summary>
public sealed class PartialStore
{
    private const string DataFile = "data";
    private const string StateFile = "state";

    /// <summary>Keeps partial downloads under <paramref name="root"/> (created when missing).</summary>
    public PartialStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = System.IO.Path.GetFullPath(root);
        System.IO.Directory.CreateDirectory(Root);
    }

    /// <summary>The absolute root directory.</summary>
    public string Root { get; }

    /// <summary>The partial data file of <paramref name="digest"/>.</summary>
    public string DataPath(Digest digest) => System.IO.Path.Combine(BlobDirectory(digest), DataFile);

    /// <summary>Drops the partial download of <paramref name="digest"/> (after commit, or when it cannot be used).</summary>
    public void Delete(Digest digest)
    {
        try
        {
            System.IO.Directory.Delete(BlobDirectory(digest), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>
    /// Opens (or starts) the partial download of <paramref name="info"/>, re-verifying every piece the
    /// saved state marks present. Returns the file and how many pieces were kept.
    /// </summary>
    internal async Task<BlobFile> OpenAsync(MetaInfo info, CancellationToken cancellationToken)
    {
        var directory = BlobDirectory(info.Digest);
        System.IO.Directory.CreateDirectory(directory);
        var saved = ReadState(info);
        if (saved is null)
        {
            // No usable state: whatever bytes are there count for nothing.
            File.Delete(System.IO.Path.Combine(directory, DataFile));
        }
        var file = BlobFile.OpenPartial(info, System.IO.Path.Combine(directory, DataFile));
        try
        {
            if (saved is not null)
            {
                foreach (var index in saved.SetBits())
                {
                    if (await file.ReverifyAsync(index, cancellationToken))
                    {
                        file.MarkVerified(index);
                    }
                }
            }
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Saves which pieces of <paramref name="file"/> are on disk (written to a temp file, then renamed).</summary>
    internal void SaveState(BlobFile file)
    {
        var info = file.Info;
        var bits = file.Snapshot();
        var bytes = new byte[SHA256.HashSizeInBytes + bits.WireLength];
        Convert.FromHexString(info.InfoHash, bytes.AsSpan(0, SHA256.HashSizeInBytes), out _, out _);
        bits.WriteTo(bytes.AsSpan(SHA256.HashSizeInBytes));
        var directory = BlobDirectory(info.Digest);
        if (!System.IO.Directory.Exists(directory))
        {
            return; // committed or dropped meanwhile
        }
        var path = System.IO.Path.Combine(directory, StateFile);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    private Bitfield? ReadState(MetaInfo info)
    {
        var path = System.IO.Path.Combine(BlobDirectory(info.Digest), StateFile);
        if (!File.Exists(path))
        {
            return null; // the usual case, a new download: no exception thrown and caught for it
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        var bits = new Bitfield(info.PieceCount);
        if (bytes.Length != SHA256.HashSizeInBytes + bits.WireLength
            || !string.Equals(Convert.ToHexStringLower(bytes.AsSpan(0, SHA256.HashSizeInBytes)), info.InfoHash, StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            bits.ReadFrom(bytes.AsSpan(SHA256.HashSizeInBytes));
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or Protocol.ProtocolException)
        {
            return null;
        }
        return bits;
    }

    private string BlobDirectory(Digest digest) => System.IO.Path.Combine(Root, digest.Hex);
}
