namespace Hardening.Auth;

/// <summary>The values of the <c>reason</c> tag of <c>hardening.auth.token.rejected</c> (agreed with the alert rules).</summary>
internal static class TokenRejectionReasons
{
    public const string Expired = "expired";
    public const string NotYetValid = "not_yet_valid";
    public const string BadSignature = "bad_signature";
    public const string BadIssuer = "bad_issuer";
    public const string BadAudience = "bad_audience";
    public const string Replayed = "replayed";
    public const string Malformed = "malformed";
    public const string MissingClaims = "missing_claims";
    public const string StoreUnavailable = "store_unavailable";
    public const string IssuedBeforeStoreLoss = "issued_before_store_loss";
}
