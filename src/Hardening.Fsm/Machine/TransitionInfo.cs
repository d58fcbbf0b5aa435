namespace Hardening.Fsm;

/// <summary>One transition of a built machine, for introspection and export.</summary>
/// <param name="From">The source state.</param>
/// <param name="Trigger">The trigger.</param>
/// <param name="To">The target state.</param>
/// <param name="Guards">The names of the transition's guards.</param>
public sealed record TransitionInfo(string From, string Trigger, string To, IReadOnlyList<string> Guards);
