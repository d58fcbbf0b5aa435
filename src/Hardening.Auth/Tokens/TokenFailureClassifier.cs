using Microsoft.IdentityModel.Tokens;

namespace Hardening.Auth;

/// <summary>Maps IdentityModel validation failures to the agreed <c>reason</c> values.</summary>
internal static class TokenFailureClassifier
{
    public static string Classify(Exception? exception) => exception switch
    {
        null => TokenRejectionReasons.Malformed,
        AggregateException { InnerExceptions.Count: > 0 } agg => Classify(agg.InnerExceptions[0]),
        SecurityTokenExpiredException => TokenRejectionReasons.Expired,
        SecurityTokenNotYetValidException => TokenRejectionReasons.NotYetValid,
        SecurityTokenNoExpirationException or MissingTokenIdException or MissingIssuedAtException => TokenRejectionReasons.MissingClaims,
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException
            or SecurityTokenInvalidAlgorithmException or SecurityTokenDecryptionFailedException or SecurityTokenInvalidSigningKeyException => TokenRejectionReasons.BadSignature,
        SecurityTokenInvalidIssuerException => TokenRejectionReasons.BadIssuer,
        SecurityTokenInvalidAudienceException => TokenRejectionReasons.BadAudience,
        SecurityTokenReplayDetectedException => TokenRejectionReasons.Replayed,
        SecurityTokenReplayAddFailedException => TokenRejectionReasons.StoreUnavailable,
        _ => TokenRejectionReasons.Malformed,
    };
}
