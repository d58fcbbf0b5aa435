using System.Security.Claims;
using Hardening.Rls;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Hardening.Rls;

/// <summary>The tenant of the current request, read from the authenticated user's claims (never from headers).</summary>
internal sealed class HttpTenantContext(IHttpContextAccessor accessor, IOptions<RlsOptions> options) : ITenantContext
{
    private readonly RlsOptions _options = options.Value;

    public string? TenantId => Single(User, _options.TenantClaimType);

    public string? UserId => Single(User, _options.UserClaimType);

    public IReadOnlyList<string> Roles =>
        User is { } user ? [.. user.FindAll(_options.RoleClaimType).Select(c => c.Value).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal)] : [];

    private ClaimsPrincipal? User => accessor.HttpContext?.User is { Identity.IsAuthenticated: true } u ? u : null;

    /// <summary>The claim's value when exactly one distinct non-empty value exists; ambiguous means none (fail closed).</summary>
    internal static string? Single(ClaimsPrincipal? user, string type)
    {
        if (user is null)
        {
            return null;
        }

        string? found = null;
        foreach (var claim in user.FindAll(type))
        {
            if (claim.Value.Length == 0 || (found is not null && found != claim.Value))
            {
                return null;
            }

            found = claim.Value;
        }

        return found;
    }
}
