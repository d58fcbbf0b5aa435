using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Attributes;
using Hardening.Auth;

namespace Hardening.Benchmarks.Passwords;

/// <summary>
/// bcrypt at cost 10: our core against libxcrypt (the C implementation every Debian system uses, the baseline),
/// BCrypt.Net-Next 4.2.0 (the managed library the card names) and Portable.BouncyCastle, in the same run.
/// BCrypt.Net-Next is measured through <c>Verify</c> of the same plain hash, the same work as our row.
/// Our core is reached through <see cref="PasswordHasher.Verify"/> of a plain
/// <c>$2b$10$</c> hash (parse + bcrypt + constant-time compare); <see cref="HardeningHash"/> is the full
/// <see cref="PasswordHasher.Hash"/> (NFKC + HMAC-SHA384 pre-hash + bcrypt + PHC formatting), to show the pre-hash overhead.
/// </summary>
[MemoryDiagnoser]
public class BCryptBenchmarks
{
    private const string Setting = "$2b$10$abcdefghijklmnopqrstuu";
    private static readonly byte[] Password = Encoding.ASCII.GetBytes("correct horse battery staple\0");
    private static readonly byte[] SettingBytes = Encoding.ASCII.GetBytes(Setting + "\0");
    private static readonly byte[] Salt = Convert.FromHexString("69b71c8a3be7a2ca2b1e6dbb9d1b8d8e");
    private readonly byte[] _cryptData = new byte[32768];
    private PasswordHasher _hasher = null!;
    private string _plainBcrypt = null!;

    [DllImport("libcrypt.so.1", EntryPoint = "crypt_rn")]
    private static extern IntPtr CryptRn(byte[] phrase, byte[] setting, byte[] data, int size);

    [GlobalSetup]
    public void Setup()
    {
        _hasher = new PasswordHasher(new PasswordHasherOptions { Cost = 10, Pepper = "benchmark-pepper-0123456789abcdef" });
        _plainBcrypt = Marshal.PtrToStringAnsi(CryptRn(Password, SettingBytes, _cryptData, _cryptData.Length))!;
        if (_hasher.Verify("correct horse battery staple", _plainBcrypt) != Microsoft.AspNetCore.Identity.PasswordVerificationResult.SuccessRehashNeeded)
        {
            throw new InvalidOperationException("Our bcrypt disagrees with libxcrypt; the comparison would be meaningless.");
        }

        if (!global::BCrypt.Net.BCrypt.Verify("correct horse battery staple", _plainBcrypt))
        {
            throw new InvalidOperationException("BCrypt.Net-Next disagrees with libxcrypt; the comparison would be meaningless.");
        }
    }

    [Benchmark(Baseline = true, Description = "libxcrypt crypt_rn $2b$10")]
    public IntPtr LibXCrypt() => CryptRn(Password, SettingBytes, _cryptData, _cryptData.Length);

    [Benchmark(Description = "Hardening bcrypt core $2b$10 (Verify of plain bcrypt)")]
    public object HardeningCore() => _hasher.Verify("correct horse battery staple", _plainBcrypt);

    [Benchmark(Description = "BCrypt.Net-Next 4.2.0 Verify $2b$10")]
    public bool BCryptNetNext() => global::BCrypt.Net.BCrypt.Verify("correct horse battery staple", _plainBcrypt);

    [Benchmark(Description = "Portable.BouncyCastle BCrypt.Generate cost 10")]
    public byte[] BouncyCastle() => Org.BouncyCastle.Crypto.Generators.BCrypt.Generate(Password, Salt, 10);

    [Benchmark(Description = "Hardening PasswordHasher.Hash cost 10 (pre-hash + bcrypt)")]
    public string HardeningHash() => _hasher.Hash("correct horse battery staple");
}
