using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Hosting.Options;

/// <summary>The gateway's view of the inference app (section <c>ServerlessServe:Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "ServerlessServe:Gateway";

    /// <summary>Base URL of the inference app including its route prefix, e.g. <c>http://127.0.0.1:7072/api</c>. Required.</summary>
    [Required]
    public Uri? InferenceBaseUrl { get; set; }

    /// <summary>Timeout of one inference call. Default 30 seconds.</summary>
    public TimeSpan InferenceTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Base64 HMAC key (at least 32 bytes) that pseudonymises caller ids in audit records. Required.</summary>
    [Required]
    public string? PseudonymKey { get; set; }

    /// <summary>PEM private key that signs audit checkpoints. Required.</summary>
    [Required]
    public string? AuditCheckpointKeyPem { get; set; }
}
