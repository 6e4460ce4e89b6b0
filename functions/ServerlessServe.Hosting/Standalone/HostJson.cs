using System.Text.Json;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>Reads the settings of <c>host.json</c> that the standalone host honours.</summary>
internal static class HostJson
{
    /// <summary><c>extensions.http.routePrefix</c>, default <c>api</c> as in the Functions host.</summary>
    public static string RoutePrefix(string directory)
    {
        var path = Path.Combine(directory, "host.json");
        if (!File.Exists(path))
        {
            return "api";
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return document.RootElement.TryGetProperty("extensions", out var extensions)
            && extensions.TryGetProperty("http", out var http)
            && http.TryGetProperty("routePrefix", out var prefix)
            && prefix.ValueKind == JsonValueKind.String
                ? prefix.GetString()!
                : "api";
    }
}
