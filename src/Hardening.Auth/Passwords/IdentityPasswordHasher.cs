using Microsoft.AspNetCore.Identity;

namespace Hardening.Auth;

/// <summary>ASP.NET Core Identity's <see cref="IPasswordHasher{TUser}"/> on top of <see cref="PasswordHasher"/>.</summary>
internal sealed class IdentityPasswordHasher<TUser>(PasswordHasher hasher) : IPasswordHasher<TUser>
    where TUser : class
{
    public string HashPassword(TUser user, string password) => hasher.Hash(password);

    public PasswordVerificationResult VerifyHashedPassword(TUser user, string hashedPassword, string providedPassword) =>
        hasher.Verify(providedPassword, hashedPassword);
}
