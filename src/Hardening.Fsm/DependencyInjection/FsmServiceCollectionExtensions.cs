using System.Diagnostics.Metrics;
using Hardening.Fsm;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Hardening.Fsm state machines.</summary>
public static class FsmServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="StateMachine{TEntity}"/> defined by <paramref name="define"/>. The machine is
    /// built (and validated) on first resolution with the container's <see cref="ILoggerFactory"/>,
    /// <see cref="IMeterFactory"/>, <see cref="TimeProvider"/> and every registered <see cref="ITransitionAuditSink"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The machine's name (metrics, logs, database messages).</param>
    /// <param name="entityId">Reads the entity id for audit records.</param>
    /// <param name="define">Declares states, transitions, invariants and fields.</param>
    /// <example>
    /// <code>
    /// builder.Services.AddHardeningStateMachine&lt;Candidate&gt;("candidate", c =&gt; c.Id.ToString(CultureInfo.InvariantCulture), CandidatePipeline.Define);
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningStateMachine<TEntity>(this IServiceCollection services, string name, Func<TEntity, string> entityId, Action<StateMachineBuilder<TEntity>> define)
        where TEntity : StatefulEntity
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(entityId);
        ArgumentNullException.ThrowIfNull(define);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var builder = new StateMachineBuilder<TEntity>(name, entityId);
            define(builder);
            builder.UseTimeProvider(sp.GetRequiredService<TimeProvider>());
            if (sp.GetService<ILoggerFactory>() is { } loggers)
            {
                builder.UseLogger(loggers.CreateLogger("Hardening.Fsm"));
            }

            if (sp.GetService<IMeterFactory>() is { } meters)
            {
                builder.UseMeterFactory(meters);
            }

            foreach (var sink in sp.GetServices<ITransitionAuditSink>())
            {
                builder.UseAuditSink(sink);
            }

            return builder.Build();
        });
        return services;
    }
}
