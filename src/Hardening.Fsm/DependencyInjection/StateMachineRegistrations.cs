using Hardening.Fsm;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The names of the machines registered for <typeparamref name="TEntity"/>, in registration order.</summary>
internal sealed class StateMachineRegistrations<TEntity>
    where TEntity : StatefulEntity
{
    public List<string> Names { get; } = [];

    /// <summary>The machine resolved without a name: the only one registered, or an error naming the keys to use.</summary>
    public StateMachine<TEntity> ResolveSingle(IServiceProvider services) => Names.Count == 1
        ? services.GetRequiredKeyedService<StateMachine<TEntity>>(Names[0])
        : throw new InvalidOperationException(
            $"{Names.Count} state machines are registered for {typeof(TEntity).Name} ({string.Join(", ", Names.Select(n => "'" + n + "'"))}); resolve one by name, e.g. [FromKeyedServices(\"{Names[0]}\")] StateMachine<{typeof(TEntity).Name}> or GetRequiredKeyedService<StateMachine<{typeof(TEntity).Name}>>(\"{Names[0]}\").");
}

/// <summary>Marker options: validating one builds (and so validates) a registered machine when the host starts.</summary>
internal sealed class StateMachineStartupCheck
{
    public static string OptionsName(Type entity, string machine) => entity.FullName + "/" + machine;
}

/// <summary>
/// Builds the machine <c>name</c> for <typeparamref name="TEntity"/> when the host validates options at start-up
/// (<c>ValidateOnStart</c>), so a broken definition stops the host with its problems listed instead of failing
/// the first request that uses it.
/// </summary>
internal sealed class StateMachineStartupValidation<TEntity>(IServiceProvider services, string machine) : IValidateOptions<StateMachineStartupCheck>
    where TEntity : StatefulEntity
{
    private readonly string _optionsName = StateMachineStartupCheck.OptionsName(typeof(TEntity), machine);

    public ValidateOptionsResult Validate(string? name, StateMachineStartupCheck options)
    {
        if (!string.Equals(name, _optionsName, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            services.GetRequiredKeyedService<StateMachine<TEntity>>(machine);
            return ValidateOptionsResult.Success;
        }
        catch (StateMachineDefinitionException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
