namespace ServerlessServe.Core.Identity;

/// <summary>The names of <see cref="TokenFailure"/> values in logs and metric tags: lower case with underscores.</summary>
public static class TokenFailureNames
{
    public static string Of(TokenFailure failure) => failure switch
    {
        TokenFailure.Missing => "missing",
        TokenFailure.TooLarge => "too_large",
        TokenFailure.Malformed => "malformed",
        TokenFailure.Algorithm => "algorithm",
        TokenFailure.KeyLocationHeader => "key_location_header",
        TokenFailure.MissingKeyId => "missing_kid",
        TokenFailure.UnknownKey => "unknown_kid",
        TokenFailure.Signature => "signature",
        TokenFailure.Issuer => "issuer",
        TokenFailure.Audience => "audience",
        TokenFailure.NoExpiry => "no_exp",
        TokenFailure.Expired => "expired",
        TokenFailure.NotYetValid => "not_yet_valid",
        TokenFailure.LifetimeTooLong => "lifetime",
        TokenFailure.NoSubject => "no_sub",
        TokenFailure.CallerNotAllowed => "caller_not_allowed",
        TokenFailure.NotAccessToken => "not_access_token",
        TokenFailure.MetadataUnavailable => "metadata_unavailable",
        TokenFailure.Revoked => "revoked",
        _ => "invalid",
    };
}
