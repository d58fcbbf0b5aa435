using Hardening.Shared;
using Microsoft.Extensions.Options;

namespace Hardening.Rls;

/// <summary>Validates <see cref="RlsOptions"/> at start-up; each message names the option and the allowed values.</summary>
internal sealed class RlsOptionsValidator : IValidateOptions<RlsOptions>
{
    public ValidateOptionsResult Validate(string? name, RlsOptions options)
    {
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static IEnumerable<string> Problems(RlsOptions o)
    {
        foreach (var (value, option) in new[] { (o.TenantClaimType, nameof(o.TenantClaimType)), (o.UserClaimType, nameof(o.UserClaimType)), (o.RoleClaimType, nameof(o.RoleClaimType)) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                yield return $"RlsOptions.{option} is empty; name the claim that carries it, such as 'tenant_id'.";
            }
        }

        if (o.TenantHeaderName is { } h && (h.Length == 0 || h.Any(c => c <= ' ' || c >= 127 || c == ':')))
        {
            yield return $"RlsOptions.TenantHeaderName '{h}' is not a valid HTTP header name; use a token such as 'X-Tenant-Id', or null to disable the check.";
        }

        var checks = new (Action Check, string Option)[]
        {
            (() => PostgresNames.SettingName(o.DataSource.TenantSetting, "tenant", nameof(o.DataSource.TenantSetting)), "DataSource.TenantSetting"),
            (() => PostgresNames.SettingName(o.DataSource.UserSetting, "user", nameof(o.DataSource.UserSetting)), "DataSource.UserSetting"),
            (() => PostgresNames.SettingName(o.DataSource.RolesSetting, "roles", nameof(o.DataSource.RolesSetting)), "DataSource.RolesSetting"),
            (() => PostgresNames.PlainIdentifier(o.Lint.TenantColumn, "tenant column", nameof(o.Lint.TenantColumn)), "Lint.TenantColumn"),
            (() =>
            {
                if (o.Lint.AppRole is not null)
                {
                    PostgresNames.PlainIdentifier(o.Lint.AppRole, "application role", nameof(o.Lint.AppRole));
                }
            }, "Lint.AppRole"),
        };
        foreach (var (check, option) in checks)
        {
            string? problem = null;
            try
            {
                check();
            }
            catch (ArgumentException e)
            {
                problem = $"RlsOptions.{option}: {e.Message}";
            }

            if (problem is not null)
            {
                yield return problem;
            }
        }
    }
}
