using Hardening.Auth;
using Hardening.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth;

/// <summary>
/// Creates the Redis replay store's group markers when the app starts, so that the store's memory is dated from the
/// app's start rather than from the first consume in each group, and logs Redis settings that let it forget consumed
/// ids. A failure is logged and retried at the first consume.
/// </summary>
internal sealed class ReplayStoreWarmup(IServiceProvider services, ILogger<ReplayStoreWarmup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetRequiredService<TokenReplayGuard>().Store is not RedisTokenReplayStore store)
        {
            return;
        }

        try
        {
            await store.EnsureMarkersAsync(cancellationToken).ConfigureAwait(false);
            foreach (var finding in await RedisSafety.CheckAsync(store.Multiplexer).ConfigureAwait(false))
            {
                AuthLog.ReplayStoreSetting(logger, finding.Unsafe ? LogLevel.Error : LogLevel.Warning, finding.Server, finding.Message);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            AuthLog.ReplayStoreWarmupFailed(logger, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
