namespace Hardening.Fsm;

/// <summary>The validated definition as plain data, for export and SQL generation.</summary>
internal sealed class MachineModel
{
    public required string Name { get; init; }

    public required string Initial { get; init; }

    public required IReadOnlyList<StateModel> States { get; init; }

    public required IReadOnlyList<TransitionModel> Transitions { get; init; }

    public required IReadOnlyList<(string Name, Condition Condition)> GlobalInvariants { get; init; }

    public required IReadOnlyList<FieldDefinition> Fields { get; init; }
}

internal sealed record StateModel(
    string Name,
    bool IsTerminal,
    IReadOnlyList<string> RequiredHistory,
    IReadOnlyList<(string Name, Condition Condition)> Invariants,
    IReadOnlyList<(FieldDefinition Field, object? Value)> Effects);

internal sealed record TransitionModel(string From, string Trigger, string To, IReadOnlyList<(string Name, Condition? Condition)> Guards);
