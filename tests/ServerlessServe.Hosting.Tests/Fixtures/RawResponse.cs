using System.Text;

namespace ServerlessServe.Hosting.Tests.Fixtures;

/// <summary>A response read off a raw socket.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>The V2 error body's message.</summary>
    public string? Error()
    {
        using var document = System.Text.Json.JsonDocument.Parse(Body);
        return document.RootElement.GetProperty("error").GetString();
    }
}
