using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Shoal.Core.Blobs;

/// <summary>
/// SHA-256 (FIPS 180-4) that stops and resumes at block boundaries. After any prefix of a message
/// whose length is a multiple of 64 bytes, the hash is fully described by its eight 32-bit state
/// words, the <em>chaining value</em> (32 bytes, big-endian, like a digest). Hashing the rest of the
/// message from that value gives the same digest as hashing the whole message at once; this is how
/// a blob's pieces are verified independently while every byte of the blob is hashed only once (see
/// <see cref="MetaInfo"/>).
/// </summary>
/// <remarks>
/// The block function is OpenSSL's (libcrypto, already loaded by .NET's own cryptography on Linux),
/// which uses the CPU's SHA extensions where present; the public one-shot APIs of .NET cannot start
/// from a chaining value. Where libcrypto is absent or fails a self-test at load, a managed block
/// function is used instead (correct, several times slower).
/// </remarks>
public static unsafe class Sha256Chain
{
    /// <summary>The SHA-256 block size: chaining values exist only at multiples of it.</summary>
    public const int BlockSize = 64;

    /// <summary>The size of a chaining value (and of a digest).</summary>
    public const int ValueSize = 32;

    private static readonly delegate* unmanaged<OpenSslContext*, byte*, nuint, int> s_update = LoadOpenSsl();

    /// <summary>True when the block function is OpenSSL's (false: the managed fallback).</summary>
    public static bool IsNative => s_update != null;

    private static ReadOnlySpan<uint> Initial =>
    [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];

    private static ReadOnlySpan<uint> K =>
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    /// <summary>
    /// Hashes <paramref name="data"/> (whole blocks) on from <paramref name="previous"/> and writes
    /// the chaining value after it to <paramref name="next"/>.
    /// </summary>
    /// <param name="previous">The chaining value before <paramref name="data"/>; empty at the start of the message.</param>
    public static void Advance(ReadOnlySpan<byte> previous, ReadOnlySpan<byte> data, Span<byte> next)
    {
        if (data.Length % BlockSize != 0)
        {
            throw new ArgumentException("a chaining value exists only after whole 64-byte blocks", nameof(data));
        }
        Span<uint> state = stackalloc uint[8];
        Load(previous, state);
        Compress(state, data);
        Store(state, next);
    }

    /// <summary>
    /// Hashes the message's last bytes <paramref name="data"/> on from <paramref name="previous"/>,
    /// which followed its first <paramref name="offset"/> bytes, and writes the SHA-256 of the whole
    /// message to <paramref name="digest"/>.
    /// </summary>
    public static void Finish(ReadOnlySpan<byte> previous, long offset, ReadOnlySpan<byte> data, Span<byte> digest)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset % BlockSize != 0)
        {
            throw new ArgumentException("a chaining value exists only after whole 64-byte blocks", nameof(offset));
        }
        Span<uint> state = stackalloc uint[8];
        Load(previous, state);
        var whole = data.Length - data.Length % BlockSize;
        Compress(state, data[..whole]);
        Pad(state, data[whole..], offset + data.Length);
        Store(state, digest);
    }

    /// <summary>Pads the message's last partial block (<paramref name="tail"/>, under 64 bytes) and compresses it.</summary>
    internal static void Pad(Span<uint> state, ReadOnlySpan<byte> tail, long messageLength)
    {
        Span<byte> last = stackalloc byte[2 * BlockSize];
        last.Clear();
        tail.CopyTo(last);
        last[tail.Length] = 0x80;
        var blocks = tail.Length < BlockSize - sizeof(ulong) ? 1 : 2;
        BinaryPrimitives.WriteUInt64BigEndian(last[((blocks * BlockSize) - sizeof(ulong))..], (ulong)messageLength * 8);
        Compress(state, last[..(blocks * BlockSize)]);
    }

    /// <summary>Sets <paramref name="state"/> from a chaining value (empty: SHA-256's initial value).</summary>
    internal static void Load(ReadOnlySpan<byte> value, Span<uint> state)
    {
        if (value.IsEmpty)
        {
            Initial.CopyTo(state);
            return;
        }
        if (value.Length != ValueSize)
        {
            throw new ArgumentException("a chaining value is 32 bytes", nameof(value));
        }
        for (var i = 0; i < 8; i++)
        {
            state[i] = BinaryPrimitives.ReadUInt32BigEndian(value[(i * 4)..]);
        }
    }

    /// <summary>Writes <paramref name="state"/> as a chaining value (or, after padding, the digest).</summary>
    internal static void Store(ReadOnlySpan<uint> state, Span<byte> value)
    {
        if (value.Length < ValueSize)
        {
            throw new ArgumentException("a chaining value is 32 bytes", nameof(value));
        }
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(value[(i * 4)..], state[i]);
        }
    }

    /// <summary>Runs the block function over whole blocks.</summary>
    internal static void Compress(Span<uint> state, ReadOnlySpan<byte> blocks)
    {
        if (s_update != null)
        {
            CompressOpenSsl(s_update, state, blocks);
        }
        else
        {
            CompressManaged(state, blocks);
        }
    }

    /// <summary>The managed block function (FIPS 180-4 §6.2.2).</summary>
    internal static void CompressManaged(Span<uint> state, ReadOnlySpan<byte> blocks)
    {
        Span<uint> w = stackalloc uint[64];
        var k = K;
        while (blocks.Length >= BlockSize)
        {
            for (var t = 0; t < 16; t++)
            {
                w[t] = BinaryPrimitives.ReadUInt32BigEndian(blocks[(t * 4)..]);
            }
            for (var t = 16; t < 64; t++)
            {
                var s0 = uint.RotateRight(w[t - 15], 7) ^ uint.RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
                var s1 = uint.RotateRight(w[t - 2], 17) ^ uint.RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
                w[t] = w[t - 16] + s0 + w[t - 7] + s1;
            }
            uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
            for (var t = 0; t < 64; t++)
            {
                var t1 = h + (uint.RotateRight(e, 6) ^ uint.RotateRight(e, 11) ^ uint.RotateRight(e, 25)) + ((e & f) ^ (~e & g)) + k[t] + w[t];
                var t2 = (uint.RotateRight(a, 2) ^ uint.RotateRight(a, 13) ^ uint.RotateRight(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                h = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
            }
            state[0] += a;
            state[1] += b;
            state[2] += c;
            state[3] += d;
            state[4] += e;
            state[5] += f;
            state[6] += g;
            state[7] += h;
            blocks = blocks[BlockSize..];
        }
    }

    /// <summary>OpenSSL's block function, reached through <c>SHA256_Update</c> on a context with no buffered bytes.</summary>
    internal static void CompressNative(Span<uint> state, ReadOnlySpan<byte> blocks)
    {
        if (s_update == null)
        {
            throw new PlatformNotSupportedException("libcrypto's SHA256_Update is not available");
        }
        CompressOpenSsl(s_update, state, blocks);
    }

    private static void CompressOpenSsl(delegate* unmanaged<OpenSslContext*, byte*, nuint, int> update, Span<uint> state, ReadOnlySpan<byte> blocks)
    {
        if (blocks.IsEmpty)
        {
            return;
        }
        // With nothing buffered (num = 0) and whole blocks, SHA256_Update hands the bytes straight to
        // the block function and buffers nothing: only the state words matter.
        OpenSslContext context = default;
        for (var i = 0; i < 8; i++)
        {
            context.H[i] = state[i];
        }
        context.MdLen = ValueSize;
        int ok;
        fixed (byte* data = blocks)
        {
            ok = update(&context, data, (nuint)blocks.Length);
        }
        if (ok != 1 || context.Num != 0)
        {
            throw new CryptographicException("SHA256_Update failed");
        }
        for (var i = 0; i < 8; i++)
        {
            state[i] = context.H[i];
        }
    }

    private static delegate* unmanaged<OpenSslContext*, byte*, nuint, int> LoadOpenSsl()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        foreach (var name in (ReadOnlySpan<string>)["libcrypto.so.3", "libcrypto.so.1.1"])
        {
            if (NativeLibrary.TryLoad(name, out var library) && NativeLibrary.TryGetExport(library, "SHA256_Update", out var export))
            {
                var update = (delegate* unmanaged<OpenSslContext*, byte*, nuint, int>)export;
                if (SelfTest(update))
                {
                    return update;
                }
            }
        }
        return null;
    }

    /// <summary>Checks the native path against .NET's SHA-256 on a two-block message before trusting it.</summary>
    private static bool SelfTest(delegate* unmanaged<OpenSslContext*, byte*, nuint, int> update)
    {
        try
        {
            Span<byte> message = stackalloc byte[3 * BlockSize + 7];
            for (var i = 0; i < message.Length; i++)
            {
                message[i] = (byte)(i * 7 + 3);
            }
            Span<uint> state = stackalloc uint[8];
            Initial.CopyTo(state);
            CompressOpenSsl(update, state, message[..(3 * BlockSize)]);
            Pad(state, message[(3 * BlockSize)..], message.Length);
            Span<byte> native = stackalloc byte[ValueSize];
            Store(state, native);
            return native.SequenceEqual(SHA256.HashData(message));
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>OpenSSL's <c>SHA256_CTX</c> (unchanged from 1.0 to 3.x).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct OpenSslContext
    {
        public fixed uint H[8];
        public uint Nl;
        public uint Nh;
        public fixed uint Data[16];
        public uint Num;
        public uint MdLen;
    }
}
