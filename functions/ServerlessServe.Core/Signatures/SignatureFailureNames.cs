namespace ServerlessServe.Core.Signatures;

/// <summary>The names of <see cref="SignatureFailure"/> in logs, metrics and audit verdicts.</summary>
public static class SignatureFailureNames
{
    public static string Of(SignatureFailure failure) => failure switch
    {
        SignatureFailure.None => "none",
        SignatureFailure.Missing => "signature_missing",
        SignatureFailure.DigestMismatch => "digest_mismatch",
        SignatureFailure.Stale => "stale",
        SignatureFailure.Replay => "replay",
        SignatureFailure.UnknownKey => "unknown_key",
        _ => "signature_invalid",
    };
}
