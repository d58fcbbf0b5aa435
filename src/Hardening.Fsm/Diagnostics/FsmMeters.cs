namespace Hardening.Fsm;

/// <summary>The meter and instrument names Hardening.Fsm publishes (for OpenTelemetry, dashboards and alert rules).</summary>
/// <example>
/// <code>
/// builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(FsmMeters.MeterName));
/// </code>
/// </example>
public static class FsmMeters
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of this package: <c>Hardening.Fsm</c>.</summary>
    public const string MeterName = "Hardening.Fsm";

    /// <summary>
    /// Counter <c>hardening.fsm.transitions</c> (unit <c>{transition}</c>) with tags <c>machine</c>, <c>outcome</c>
    /// (<c>accepted</c> | <c>rejected</c>) and <c>reason</c> (<c>none</c> or the snake_case <see cref="RejectionReason"/>).
    /// </summary>
    public const string Transitions = "hardening.fsm.transitions";
}
