using System.Diagnostics.Metrics;
using Hardening.Fsm;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Hardening.Fsm state machines.</summary>
public static class FsmServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="StateMachine{TEntity}"/> defined by <paramref name="define"/>, keyed by
    /// <paramref name="name"/> (several machines for one entity type are kept side by side; resolve them with
    /// <c>[FromKeyedServices(name)]</c>); when it is the only machine for <typeparamref name="TEntity"/> it also resolves
    /// without a key. The machine is built with the container's <see cref="ILoggerFactory"/>, <see cref="IMeterFactory"/>,
    /// <see cref="TimeProvider"/> and every registered <see cref="ITransitionAuditSink"/>, and validated when the host
    /// starts (<c>ValidateOnStart</c>): a broken definition stops the host with an <see cref="OptionsValidationException"/>
    /// listing its problems (without a host, the first resolution throws <see cref="StateMachineDefinitionException"/>).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The machine's name (metrics, logs, database messages).</param>
    /// <param name="entityId">Reads the entity id for audit records.</param>
    /// <param name="define">Declares states, transitions, invariants and fields.</param>
    /// <exception cref="ArgumentException">A machine with this name is already registered for <typeparamref name="TEntity"/>.</exception>
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
        var registrations = services.FirstOrDefault(d => d.ServiceType == typeof(StateMachineRegistrations<TEntity>))?.ImplementationInstance as StateMachineRegistrations<TEntity>;
        if (registrations is null)
        {
            registrations = new StateMachineRegistrations<TEntity>();
            services.AddSingleton(registrations);
            services.AddSingleton(sp => registrations.ResolveSingle(sp));
        }

        if (registrations.Names.Contains(name, StringComparer.Ordinal))
        {
            throw new ArgumentException($"A state machine named '{name}' is already registered for {typeof(TEntity).Name}; give each machine its own name.", nameof(name));
        }

        registrations.Names.Add(name);
        services.TryAddSingleton(TimeProvider.System);
        services.AddKeyedSingleton(name, (sp, _) =>
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
        services.AddSingleton<IValidateOptions<StateMachineStartupCheck>>(sp => new StateMachineStartupValidation<TEntity>(sp, name));
        services.AddOptions<StateMachineStartupCheck>(StateMachineStartupCheck.OptionsName(typeof(TEntity), name)).ValidateOnStart();
        return services;
    }
}
