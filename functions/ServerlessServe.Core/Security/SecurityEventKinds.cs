namespace ServerlessServe.Core.Security;

/// <summary>The kinds of <see cref="SecurityEvent"/>.</summary>
public static class SecurityEventKinds
{
    /// <summary>The extraction detector (PRADA, volume or coverage) alarmed for a caller of a model.</summary>
    public const string Extraction = "extraction";

    /// <summary>A request named a honey model: a name served nowhere and listed nowhere.</summary>
    public const string HoneyModel = "honey-model";

    /// <summary>A validly signed token carried a honey subject: one never issued to anyone.</summary>
    public const string HoneyCaller = "honey-caller";

    /// <summary>A response about to leave carried a canary value (a canary record was read).</summary>
    public const string CanaryOutput = "canary-output";

    /// <summary>An outbound request carried a canary value.</summary>
    public const string CanaryEgress = "canary-egress";

    /// <summary>A log line or telemetry item carried a canary value.</summary>
    public const string CanaryTelemetry = "canary-telemetry";

    /// <summary>
    /// A summary of the bearer tokens refused in one interval, counted by reason (unauthenticated requests are not
    /// audited one by one). Never acts.
    /// </summary>
    public const string AuthRefusals = "auth-refusals";

    /// <summary>
    /// A summary of one caller's 429s from its own limits in one interval that were not audited one by one (the first in
    /// each interval is), counted by the stage that refused them. Never acts.
    /// </summary>
    public const string RateLimitRefusals = "rate-limit-refusals";

    /// <summary>
    /// A summary of one authenticated caller's refusals by the admin plane's gate in one interval (a token without the
    /// admin role, of a blocked caller, for the gateway, or revoked) that were not audited one by one (the first in each
    /// interval is), counted by reason. Never acts.
    /// </summary>
    public const string AdminRefusals = "admin-refusals";

    /// <summary>
    /// A model version held in this instance's memory no longer matched what was signed (runtime re-attestation); it has
    /// stopped serving here. Recorded and alerted; the artifact in the store is unchanged, so other instances keep it.
    /// </summary>
    public const string ModelTampered = "model-tampered";
}
