using Microsoft.Extensions.Options;

namespace Hardening.Auth;

/// <summary>Validates <see cref="PasswordHasherOptions"/> at start-up; each message names the option and the allowed values.</summary>
internal sealed class PasswordHasherOptionsValidator : IValidateOptions<PasswordHasherOptions>
{
    public ValidateOptionsResult Validate(string? name, PasswordHasherOptions options)
    {
        var problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
