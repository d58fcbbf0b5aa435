namespace Hardening.Auth;

/// <summary>
/// How <see cref="PasswordHasher.Verify"/> turns a password into the bcrypt key when it checks a stored plain bcrypt
/// hash (<c>$2a$</c>, <c>$2b$</c>, <c>$2y$</c>). The stored string does not say: a hash of the password itself and a
/// hash of a pre-hash of it look the same, so the application states which one its legacy store holds. Either way a
/// match returns <c>SuccessRehashNeeded</c>, so logins move users to the current format.
/// </summary>
public enum LegacyBCryptFormat
{
    /// <summary>
    /// The default: the key is the UTF-8 password itself, of which bcrypt reads the first 72 bytes (crypt(3), PHP
    /// <c>password_hash</c>, BCrypt.Net-Next <c>HashPassword</c>, Spring Security, ...). A password containing NUL never matches.
    /// </summary>
    Plain = 0,

    /// <summary>
    /// The key is <c>base64(SHA-384(UTF-8(password)))</c> (64 characters, standard base64 with padding), as written by
    /// BCrypt.Net-Next 4.x <c>EnhancedHashPassword(password)</c> and <c>HashPassword(password, salt, enhancedEntropy: true)</c>
    /// with the default <c>HashType.SHA384</c>. No normalisation, as BCrypt.Net-Next does none; a password with an
    /// unpaired surrogate never matches (BCrypt.Net-Next cannot hash it). Plain bcrypt hashes do not verify in this
    /// mode: a store that mixes both kinds cannot tell them apart and must be split before migrating.
    /// </summary>
    BCryptNetEnhancedSha384 = 1,
}
