using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace ServerlessServe.Hosting.Options;

/// <summary>
/// The outbound allow-list (section <c>ServerlessServe:Egress</c>). Every HTTP client from the factory refuses any
/// other host. The configured inference base URL and storage endpoint are added automatically.
/// </summary>
internal sealed class EgressOptions : IValidatableObject
{
    public const string SectionName = "ServerlessServe:Egress";

    /// <summary>Extra allowed authorities as <c>host</c> or <c>host:port</c>. Default empty.</summary>
    [MaxLength(256)]
    public List<string> AllowedHosts { get; set; } = [];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < AllowedHosts.Count; i++)
        {
            if (!IsAuthority(AllowedHosts[i]))
            {
                yield return new ValidationResult(
                    $"ServerlessServe:Egress:AllowedHosts:{i} must be a host name or address, optionally with :port.", [nameof(AllowedHosts)]);
            }
        }
    }

    private static bool IsAuthority(string? entry)
    {
        if (string.IsNullOrWhiteSpace(entry))
        {
            return false;
        }

        var host = entry;
        var colon = entry.LastIndexOf(':');
        if (colon > 0 && !entry.EndsWith(']') && entry.IndexOf(':', StringComparison.Ordinal) == colon)
        {
            host = entry[..colon];
            if (!int.TryParse(entry.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                return false;
            }
        }

        return Uri.CheckHostName(host.Trim('[', ']')) != UriHostNameType.Unknown;
    }
}
