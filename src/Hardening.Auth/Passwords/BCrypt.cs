using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Hardening.Auth;

/// <summary>The bcrypt minor version letter, which changes how the key bytes are read.</summary>
internal enum BCryptMinor
{
    /// <summary><c>$2b$</c>: the current OpenBSD format.</summary>
    B,

    /// <summary><c>$2a$</c>: as crypt_blowfish/libxcrypt read it, with the sign-extension safety measure.</summary>
    A,

    /// <summary><c>$2y$</c>: crypt_blowfish's name for correct hashes; identical to <c>$2b$</c>.</summary>
    Y,
}

/// <summary>
/// bcrypt (EksBlowfish, Provos and Mazieres 1999) over a 4 KiB state held on the stack: no allocation, no
/// bounds checks in the expensive loop. Key bytes follow crypt(3): read as a C string (up to the first NUL),
/// the terminating NUL included, cycled to 72 bytes, so bytes past 72 are ignored.
/// </summary>
internal static class BCrypt
{
    public const int SaltSize = 16;
    public const int HashSize = 23;
    public const int MinCost = 4;
    public const int MaxCost = 31;
    public const int MaxKeyBytes = 72;

    private const int PWords = 18;
    private const int SWords = 1024;

    // "OrpheanBeholderScryDoubt" as six big-endian words.
    private static ReadOnlySpan<uint> Magic => [0x4F727068, 0x65616E42, 0x65686F6C, 0x64657253, 0x63727944, 0x6F756274];

    [InlineArray(SWords + PWords)]
    private struct State
    {
        private uint _element0;
    }

    [InlineArray(PWords)]
    private struct KeyWords
    {
        private uint _element0;
    }

    /// <summary>Computes the 23-byte bcrypt digest of <paramref name="key"/>.</summary>
    /// <remarks>Fully optimised from the first call: tier-0 code would make the first hashes (and a start-up calibration) many times slower.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Hash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> salt, int cost, BCryptMinor minor, Span<byte> hash)
    {
        if (salt.Length != SaltSize)
        {
            throw new ArgumentException($"The bcrypt salt must be {SaltSize} bytes, not {salt.Length}.", nameof(salt));
        }

        if (cost is < MinCost or > MaxCost)
        {
            throw new ArgumentOutOfRangeException(nameof(cost), cost, $"The bcrypt cost must be between {MinCost} and {MaxCost}.");
        }

        if (hash.Length < HashSize)
        {
            throw new ArgumentException($"The destination must hold {HashSize} bytes.", nameof(hash));
        }

        var nul = key.IndexOf((byte)0);
        if (nul >= 0)
        {
            key = key[..nul];
        }

        Unsafe.SkipInit(out State state);
        Unsafe.SkipInit(out KeyWords keyWords);
        ref var s = ref Unsafe.As<State, uint>(ref state);
        ref var p = ref Unsafe.Add(ref s, SWords);
        ref var k = ref Unsafe.As<KeyWords, uint>(ref keyWords);
        var stateSpan = MemoryMarshal.CreateSpan(ref s, SWords + PWords);
        var keySpan = MemoryMarshal.CreateSpan(ref k, PWords);
        try
        {
            var safety = ReadKey(key, keySpan, minor == BCryptMinor.A);

            var init = BlowfishInitialState.Words;
            init[PWords..].CopyTo(stateSpan);
            init[..PWords].CopyTo(stateSpan[SWords..]);

            var s0 = BinaryPrimitives.ReadUInt32BigEndian(salt);
            var s1 = BinaryPrimitives.ReadUInt32BigEndian(salt[4..]);
            var s2 = BinaryPrimitives.ReadUInt32BigEndian(salt[8..]);
            var s3 = BinaryPrimitives.ReadUInt32BigEndian(salt[12..]);

            // ExpandKey(state, salt, key): P ^= key, then encrypt the running block XOR-ed with alternating salt halves.
            for (var i = 0; i < PWords; i++)
            {
                Unsafe.Add(ref p, i) ^= Unsafe.Add(ref k, i);
            }

            p ^= safety;
            uint l = 0, r = 0;
            for (var i = 0; i < PWords; i += 4)
            {
                l ^= s0;
                r ^= s1;
                Encrypt(ref s, ref p, ref l, ref r);
                Unsafe.Add(ref p, i) = l;
                Unsafe.Add(ref p, i + 1) = r;
                if (i + 2 == PWords)
                {
                    break;
                }

                l ^= s2;
                r ^= s3;
                Encrypt(ref s, ref p, ref l, ref r);
                Unsafe.Add(ref p, i + 2) = l;
                Unsafe.Add(ref p, i + 3) = r;
            }

            // 18 P words is 9 blocks: the S-boxes start on the second salt half.
            for (var i = 0; i < SWords; i += 4)
            {
                l ^= s2;
                r ^= s3;
                Encrypt(ref s, ref p, ref l, ref r);
                Unsafe.Add(ref s, i) = l;
                Unsafe.Add(ref s, i + 1) = r;
                l ^= s0;
                r ^= s1;
                Encrypt(ref s, ref p, ref l, ref r);
                Unsafe.Add(ref s, i + 2) = l;
                Unsafe.Add(ref s, i + 3) = r;
            }

            // 2^cost rounds of ExpandKey(state, 0, key); ExpandKey(state, 0, salt).
            var rounds = 1L << cost;
            for (var n = 0L; n < rounds; n++)
            {
                for (var i = 0; i < PWords; i++)
                {
                    Unsafe.Add(ref p, i) ^= Unsafe.Add(ref k, i);
                }

                EncryptState(ref s, ref p);
                for (var i = 0; i < 16; i += 4)
                {
                    Unsafe.Add(ref p, i) ^= s0;
                    Unsafe.Add(ref p, i + 1) ^= s1;
                    Unsafe.Add(ref p, i + 2) ^= s2;
                    Unsafe.Add(ref p, i + 3) ^= s3;
                }

                Unsafe.Add(ref p, 16) ^= s0;
                Unsafe.Add(ref p, 17) ^= s1;
                EncryptState(ref s, ref p);
            }

            Span<byte> output = stackalloc byte[24];
            var magic = Magic;
            for (var i = 0; i < 6; i += 2)
            {
                l = magic[i];
                r = magic[i + 1];
                for (var j = 0; j < 64; j++)
                {
                    Encrypt(ref s, ref p, ref l, ref r);
                }

                BinaryPrimitives.WriteUInt32BigEndian(output[(i * 4)..], l);
                BinaryPrimitives.WriteUInt32BigEndian(output[((i + 1) * 4)..], r);
            }

            output[..HashSize].CopyTo(hash);
            CryptographicOperations.ZeroMemory(output);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(stateSpan));
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(keySpan));
        }
    }

    /// <summary>
    /// Reads 72 key bytes as 18 big-endian words and returns the word to XOR into P[0] for <c>$2a$</c>: crypt_blowfish
    /// (and libxcrypt) flip bit 16 when a byte with the high bit set sits where the old sign-extension bug would
    /// have mattered yet the buggy and correct words happen to agree, so such <c>$2a$</c> hashes never match <c>$2x$</c>.
    /// </summary>
    private static uint ReadKey(ReadOnlySpan<byte> key, Span<uint> words, bool safety)
    {
        var pos = 0;
        uint sign = 0, diff = 0;
        for (var i = 0; i < PWords; i++)
        {
            uint word = 0, bug = 0;
            for (var j = 0; j < 4; j++)
            {
                var b = pos < key.Length ? key[pos] : (byte)0;
                var extended = (uint)(sbyte)b;
                word = (word << 8) | b;
                bug = (bug << 8) | extended;
                if (j != 0)
                {
                    sign |= bug & 0x80;
                }

                pos = pos < key.Length ? pos + 1 : 0;
            }

            diff |= word ^ bug;
            words[i] = word;
        }

        if (!safety)
        {
            return 0;
        }

        diff |= diff >> 16;
        diff &= 0xFFFF;
        diff += 0xFFFF;
        sign <<= 9;
        return sign & ~diff & 0x10000;
    }

    /// <summary>Encrypts the zero block chained through all of P then all of S, replacing them (one ExpandKey without data).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EncryptState(ref uint s, ref uint p)
    {
        uint l = 0, r = 0;
        for (var i = 0; i < PWords; i += 2)
        {
            Encrypt(ref s, ref p, ref l, ref r);
            Unsafe.Add(ref p, i) = l;
            Unsafe.Add(ref p, i + 1) = r;
        }

        for (var i = 0; i < SWords; i += 2)
        {
            Encrypt(ref s, ref p, ref l, ref r);
            Unsafe.Add(ref s, i) = l;
            Unsafe.Add(ref s, i + 1) = r;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Encrypt(ref uint s, ref uint p, ref uint left, ref uint right)
    {
        var block = Encrypt(ref s, ref p, left, right);
        left = (uint)(block >> 32);
        right = (uint)block;
    }

    /// <summary>One Blowfish block encryption; returns L in the high half and R in the low half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Encrypt(ref uint s, ref uint p, uint left, uint right)
    {
        var l = left ^ p;
        var r = right;
        r ^= Unsafe.Add(ref p, 1);
        r ^= F(ref s, l);
        l ^= Unsafe.Add(ref p, 2);
        l ^= F(ref s, r);
        r ^= Unsafe.Add(ref p, 3);
        r ^= F(ref s, l);
        l ^= Unsafe.Add(ref p, 4);
        l ^= F(ref s, r);
        r ^= Unsafe.Add(ref p, 5);
        r ^= F(ref s, l);
        l ^= Unsafe.Add(ref p, 6);
        l ^= F(ref s, r);
        r ^= Unsafe.Add(ref p, 7);
        r ^= F(ref s, l);
        l ^= Unsafe.Add(ref p, 8);
        l ^= F(ref s, r);
        r ^= Unsafe.Add(ref p, 9);
        r ^= F(ref s, l);
        l ^= Unsafe.Add(ref p, 10);
        l ^= F(ref s, r);
        r ^= Unsafe.Add(ref p, 11);
        r ^= F(ref s, l);
        l ^= Unsafe.Add(ref p, 12);
        l ^= F(ref s, r);
        r ^= Unsafe.Add(ref p, 13);
        r ^= F(ref s, l);
        l ^= Unsafe.Add(ref p, 14);
        l ^= F(ref s, r);
        r ^= Unsafe.Add(ref p, 15);
        r ^= F(ref s, l);
        l ^= Unsafe.Add(ref p, 16);
        l ^= F(ref s, r);
        return ((ulong)(r ^ Unsafe.Add(ref p, 17)) << 32) | l;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint F(ref uint s, uint x) =>
        ((Unsafe.Add(ref s, (nuint)(x >> 24))
          + Unsafe.Add(ref s, 256 + (nuint)(byte)(x >> 16)))
         ^ Unsafe.Add(ref s, 512 + (nuint)(byte)(x >> 8)))
        + Unsafe.Add(ref s, 768 + (nuint)(byte)x);
}
