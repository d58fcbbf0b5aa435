using Hardening.Rls;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the Hardening.Rls middleware.</summary>
public static class RlsApplicationBuilderExtensions
{
    /// <summary>
    /// Refuses with 403 (and a security event, EventId 6101, plus the <c>hardening.rls.tenant.mismatches</c> counter)
    /// every authenticated request whose tenant header disagrees with its tenant claim. Call it after
    /// <c>UseAuthentication()</c>.
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static IApplicationBuilder UseHardeningRls(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<TenantHeaderMiddleware>();
    }
}
