using Hardening.Rls;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hardening.Rls;

/// <summary>Refuses (403) an authenticated request whose client-supplied tenant header disagrees with its tenant claim, and turns tenant-scoped work without a tenant into 403.</summary>
internal sealed class TenantHeaderMiddleware(RequestDelegate next, IOptions<RlsOptions> options, RlsMetrics metrics, ILogger<TenantHeaderMiddleware> logger)
{
    private readonly RlsOptions _options = options.Value;

    public async Task InvokeAsync(HttpContext context)
    {
        var header = _options.TenantHeaderName;
        if (header is not null && context.User.Identity?.IsAuthenticated == true && context.Request.Headers.TryGetValue(header, out var values))
        {
            var claim = HttpTenantContext.Single(context.User, _options.TenantClaimType);
            if (values.Count != 1 || claim is null || !string.Equals(values[0], claim, StringComparison.Ordinal))
            {
                metrics.TenantMismatch();
                RlsLog.TenantHeaderMismatch(logger, context.Request.Method, context.Request.Path.Value ?? "/", header);
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (MissingTenantException) when (!context.Response.HasStarted)
        {
            // Tenant-scoped work without a tenant claim: refuse, do not surface as a 500.
            RlsLog.MissingTenant(logger, context.Request.Method, context.Request.Path.Value ?? "/");
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
        }
    }
}
