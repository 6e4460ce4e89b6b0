using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Options;

/// <summary>The gateway's view of the inference app (section <c>ServerlessServe:Gateway</c>).</summary>
internal sealed class GatewayOptions
{
    public const string SectionName = "ServerlessServe:Gateway";

    /// <summary>Base URL of the inference app including its route prefix, e.g. <c>http://127.0.0.1:7072/api</c>. Required.</summary>
    [Required]
    public Uri? InferenceBaseUrl { get; set; }

    /// <summary>Timeout of one inference call. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan InferenceTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
