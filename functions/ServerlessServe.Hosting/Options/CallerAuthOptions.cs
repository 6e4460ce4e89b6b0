using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Options;

/// <summary>How the gateway authenticates callers (section <c>ServerlessServe:Identity</c>).</summary>
public sealed class CallerAuthOptions
{
    public const string SectionName = "ServerlessServe:Identity";

    /// <summary>Expected <c>iss</c>. Default <c>serverlessserve-local</c> (the issuer <c>ssctl up</c> creates).</summary>
    [Required]
    public string Issuer { get; set; } = "serverlessserve-local";

    /// <summary>Expected <c>aud</c>. Default <c>serverlessserve</c>.</summary>
    [Required]
    public string Audience { get; set; } = "serverlessserve";

    /// <summary>PEM public keys of the issuer (ES256). At least one; no default: without it every caller is refused.</summary>
    [MinLength(1)]
    public List<string> IssuerPublicKeyPems { get; set; } = [];

    /// <summary>Longest token lifetime accepted. Default 24 hours.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Allowed clock difference. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
