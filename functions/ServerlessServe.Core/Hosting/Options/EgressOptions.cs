namespace ServerlessServe.Core.Hosting.Options;

/// <summary>
/// The outbound allow-list (section <c>ServerlessServe:Egress</c>). Every HTTP client from the factory refuses any
/// other host. The configured inference base URL and storage endpoint are added automatically.
/// </summary>
public sealed class EgressOptions
{
    public const string SectionName = "ServerlessServe:Egress";

    /// <summary>Extra allowed authorities as <c>host</c> or <c>host:port</c>. Default empty.</summary>
    public List<string> AllowedHosts { get; set; } = [];
}
