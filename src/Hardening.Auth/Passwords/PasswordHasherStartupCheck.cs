using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth;

/// <summary>Builds the hasher at start-up (so bad options fail the start) and warns when Production runs without a pepper.</summary>
internal sealed class PasswordHasherStartupCheck(PasswordHasher hasher, ILogger<PasswordHasher> logger, IHostEnvironment? environment = null) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!hasher.HasPepper && environment?.IsProduction() == true)
        {
            PasswordLog.PepperMissing(logger, environment.EnvironmentName);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
