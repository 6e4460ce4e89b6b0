namespace ServerlessServe.Hosting.Egress;

/// <summary>The set of authorities (<c>host</c> or <c>host:port</c>, case-insensitive) the process may call.</summary>
internal sealed class EgressAllowList
{
    private readonly HashSet<string> _entries;

    public EgressAllowList(IEnumerable<string> entries)
    {
        _entries = new HashSet<string>(entries.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e.Trim()), StringComparer.OrdinalIgnoreCase);
    }

    public bool Allows(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.IsAbsoluteUri
            && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            && (_entries.Contains(uri.Host) || _entries.Contains($"{uri.Host}:{uri.Port}"));
    }

    /// <summary>The authority of a URI as an allow-list entry (<c>host:port</c>).</summary>
    public static string EntryFor(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return $"{uri.Host}:{uri.Port}";
    }
}
