using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Options;

/// <summary>
/// The gateway → inference hop (section <c>ServerlessServe:ServiceToken</c>): the gateway signs a short-lived ES256
/// token per call; the inference app accepts only tokens from the pinned keys.
/// </summary>
internal sealed class ServiceTokenOptions
{
    public const string SectionName = "ServerlessServe:ServiceToken";

    /// <summary>Token <c>iss</c>. Default <c>serverlessserve-gateway</c>.</summary>
    [Required]
    public string Issuer { get; set; } = "serverlessserve-gateway";

    /// <summary>Token <c>aud</c>. Default <c>serverlessserve-inference</c>.</summary>
    [Required]
    public string Audience { get; set; } = "serverlessserve-inference";

    /// <summary>Gateway only: PEM private key that signs service tokens. No default.</summary>
    public string? SigningKeyPem { get; set; }

    /// <summary>Inference only: PEM public keys whose tokens are accepted. No default (every call refused).</summary>
    public List<string> TrustedKeyPems { get; set; } = [];

    /// <summary>Lifetime of a minted token, also the longest accepted. Default 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Allowed clock difference between the gateway and the inference app. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
