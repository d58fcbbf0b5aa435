namespace Hardening.Rls;

/// <summary>How serious a finding is.</summary>
public enum RlsFindingLevel
{
    /// <summary>Worth a look; does not fail the command line or the health check.</summary>
    Warning = 1,

    /// <summary>Tenant isolation is broken or bypassable; fails the command line (exit code 1) and the health check.</summary>
    Error = 2,
}

/// <summary>One problem found by <see cref="RlsLinter"/>.</summary>
/// <param name="Rule">The rule name, e.g. <c>rls_not_forced</c> (see <see cref="RlsRules"/>).</param>
/// <param name="Level">How serious it is.</param>
/// <param name="Object">The table, view, policy, function, constraint or role concerned (schema-qualified where it has one).</param>
/// <param name="Detail">What is wrong and why it matters.</param>
/// <param name="Remediation">SQL that fixes it (review before running).</param>
public sealed record RlsFinding(string Rule, RlsFindingLevel Level, string Object, string Detail, string Remediation);

/// <summary>The findings of one lint run.</summary>
/// <param name="Findings">Every finding, errors first.</param>
public sealed record RlsLintReport(IReadOnlyList<RlsFinding> Findings)
{
    /// <summary>Number of errors.</summary>
    public int Errors => Findings.Count(f => f.Level == RlsFindingLevel.Error);

    /// <summary>Number of warnings.</summary>
    public int Warnings => Findings.Count(f => f.Level == RlsFindingLevel.Warning);

    /// <summary>True when there is no error.</summary>
    public bool Passed => Errors == 0;
}
