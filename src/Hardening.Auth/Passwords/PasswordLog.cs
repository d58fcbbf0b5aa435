using Microsoft.Extensions.Logging;

namespace Hardening.Auth;

/// <summary>Security events of the password hasher (event ids 1100-1199). Messages never contain passwords, hashes or peppers.</summary>
internal static partial class PasswordLog
{
    [LoggerMessage(EventId = 1101, EventName = "StoredPasswordHashUnusable", Level = LogLevel.Warning,
        Message = "Password verification failed closed because the stored hash is unusable: {Problem}.")]
    public static partial void StoredHashUnusable(ILogger logger, string problem);

    [LoggerMessage(EventId = 1102, EventName = "PasswordPepperMissing", Level = LogLevel.Warning,
        Message = "No password pepper is configured in the {Environment} environment: password hashes are keyed with a public domain key, so a stolen database can be attacked offline without any other secret. Set PasswordHasherOptions.Pepper from a secret store.")]
    public static partial void PepperMissing(ILogger logger, string environment);

    [LoggerMessage(EventId = 1103, EventName = "PasswordTooLong", Level = LogLevel.Information,
        Message = "Password verification rejected a password longer than the {MaxPasswordLength}-character limit.")]
    public static partial void PasswordTooLong(ILogger logger, int maxPasswordLength);
}
