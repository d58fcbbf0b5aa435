namespace Hardening.Fsm;

/// <summary>Thrown by <see cref="StateMachineBuilder{TEntity}.Build"/> with every problem of the definition.</summary>
public sealed class StateMachineDefinitionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StateMachineDefinitionException()
        : this("machine", ["The definition is invalid."])
    {
    }

    /// <summary>Creates the exception.</summary>
    public StateMachineDefinitionException(string message)
        : this("machine", [message])
    {
    }

    /// <summary>Creates the exception.</summary>
    public StateMachineDefinitionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Creates the exception for <paramref name="machine"/> listing <paramref name="problems"/>.</summary>
    public StateMachineDefinitionException(string machine, IReadOnlyList<string> problems)
        : base(Format(machine, problems))
    {
        Problems = problems;
    }

    /// <summary>Each problem as one sentence.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Format(string machine, IReadOnlyList<string> problems) =>
        $"State machine '{machine}' has {problems.Count} problem(s):\n" + string.Join('\n', problems.Select(p => "- " + p));
}
