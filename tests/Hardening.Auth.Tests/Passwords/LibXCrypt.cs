using System.Runtime.InteropServices;
using System.Text;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>The system's libxcrypt (<c>crypt_rn</c> from libcrypt.so.1), the reference our bcrypt must equal.</summary>
internal static class LibXCrypt
{
    // sizeof(struct crypt_data) in libxcrypt.
    private const int CryptDataSize = 32768;

    [DllImport("libcrypt.so.1", EntryPoint = "crypt_rn")]
    private static extern IntPtr CryptRn(byte[] phrase, byte[] setting, byte[] data, int size);

    /// <summary>crypt(3) of a NUL-free byte password; null when libxcrypt rejects the setting.</summary>
    public static string? Crypt(ReadOnlySpan<byte> password, string setting)
    {
        var phrase = new byte[password.Length + 1];
        password.CopyTo(phrase);
        var data = new byte[CryptDataSize];
        var result = CryptRn(phrase, Encoding.ASCII.GetBytes(setting + "\0"), data, data.Length);
        if (result == IntPtr.Zero)
        {
            return null;
        }

        var text = Marshal.PtrToStringAnsi(result);
        return text is null || text.StartsWith('*') ? null : text;
    }
}
