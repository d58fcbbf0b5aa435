using Hardening.Observability;

namespace Hardening.Observability;

/// <summary>
/// One Prometheus alerting rule: a PromQL condition, how long it must hold, a severity and the annotations an
/// on-call engineer reads (summary, description, runbook). Immutable. The presets come from
/// <see cref="AlertRulePresets.Create"/>; render them with <see cref="PrometheusRuleFile"/>.
/// </summary>
public sealed class AlertRule
{
    internal AlertRule(string name, AlertCondition condition, TimeSpan forDuration, AlertSeverity severity, string summary, string description, string runbookUrl)
        : this(name, condition.PromQL, forDuration, severity, summary, description, runbookUrl) => Condition = condition;

    private AlertRule(string name, string expression, TimeSpan forDuration, AlertSeverity severity, string summary, string description, string runbookUrl)
    {
        if (string.IsNullOrEmpty(name) || !name.All(char.IsAsciiLetterOrDigit) || !char.IsAsciiLetterUpper(name[0]))
        {
            throw new ArgumentException($"Alert name '{name}' is not valid; use PascalCase letters and digits such as 'ResumeBacklogHigh'.", nameof(name));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(expression);
        ArgumentException.ThrowIfNullOrWhiteSpace(summary);
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        ArgumentException.ThrowIfNullOrWhiteSpace(runbookUrl);
        if (forDuration < TimeSpan.Zero || forDuration.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(forDuration), forDuration, "The 'for' duration must be zero or a positive whole number of seconds.");
        }

        if (!Enum.IsDefined(severity))
        {
            throw new ArgumentOutOfRangeException(nameof(severity), severity, "Unknown severity.");
        }

        Name = name;
        Expression = expression;
        For = forDuration;
        Severity = severity;
        Summary = summary;
        Description = description;
        RunbookUrl = runbookUrl;
    }

    /// <summary>The alert name (<c>alert:</c>).</summary>
    public string Name { get; }

    /// <summary>The PromQL condition (<c>expr:</c>).</summary>
    public string Expression { get; }

    /// <summary>How long the condition must hold before the alert fires (<c>for:</c>).</summary>
    public TimeSpan For { get; }

    /// <summary>The <c>severity</c> label.</summary>
    public AlertSeverity Severity { get; }

    /// <summary>One line for the notification title.</summary>
    public string Summary { get; }

    /// <summary>What is wrong and its likely causes; may use <c>{{ $labels.name }}</c>.</summary>
    public string Description { get; }

    /// <summary>Where the runbook for this alert lives.</summary>
    public string RunbookUrl { get; }

    /// <summary>The typed condition behind preset rules: evaluated in-process by the diagnosis page and used to generate promtool tests.</summary>
    internal AlertCondition? Condition { get; }

    /// <summary>A custom rule from a raw PromQL expression (not evaluated by the diagnosis page and without generated tests).</summary>
    /// <example>
    /// <code>
    /// var rule = AlertRule.FromPromQL("CandidateExportStuck", "max(export_queue_depth) > 1000", TimeSpan.FromMinutes(10),
    ///     AlertSeverity.Ticket, "Candidate export is stuck", "The export queue has held more than 1,000 items for 10 minutes.",
    ///     "https://runbooks.example.com/export-stuck");
    /// </code>
    /// </example>
    public static AlertRule FromPromQL(string name, string expression, TimeSpan forDuration, AlertSeverity severity, string summary, string description, string runbookUrl) =>
        new(name, expression, forDuration, severity, summary, description, runbookUrl);
}
