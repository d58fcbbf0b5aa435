namespace Hardening.Observability;

/// <summary>How urgently a human must act (the SRE workbook's page/ticket split); rendered as the <c>severity</c> label.</summary>
public enum AlertSeverity
{
    /// <summary>Wake someone up now (<c>severity="page"</c>).</summary>
    Page,

    /// <summary>Look at it during working hours (<c>severity="ticket"</c>).</summary>
    Ticket,
}
