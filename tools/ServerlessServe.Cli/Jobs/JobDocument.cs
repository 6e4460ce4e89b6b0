using System.Text.Json;

namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// A job as <c>GET /api/jobs/{id}</c> answers it. <see cref="Json"/> is the gateway's answer as received, which
/// <c>--json</c> prints unchanged.
/// </summary>
internal sealed record JobDocument(
    string Id,
    string Status,
    string? ModelName,
    string? ModelVersion,
    int Items,
    int Done,
    IReadOnlyList<JobItemResult>? Results,
    string Json)
{
    public bool IsFinal => JobStatusNames.IsFinal(Status);

    /// <summary>Reads a status answer; anything that is not one is a <see cref="JobApiException"/>, not a crash.</summary>
    public static JobDocument Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var results = root.TryGetProperty("results", out var array) && array.ValueKind == JsonValueKind.Array
                ? array.EnumerateArray().Select(JobItemResult.From).ToList()
                : null;
            return new JobDocument(
                root.GetProperty("id").GetString() ?? "",
                root.GetProperty("status").GetString() ?? "",
                String(root, "model_name"),
                String(root, "model_version"),
                Int(root, "items"),
                Int(root, "done"),
                results,
                json);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new JobApiException("the gateway's answer is not a job status");
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : 0;
}

/// <summary>One item of a completed job: <c>released</c> with the V2 response, or a refusal kind with its message.</summary>
internal sealed record JobItemResult(int Index, string Outcome, JsonElement? Response, string? Error)
{
    public const string Released = "released";

    public bool IsReleased => Outcome == Released;

    public static JobItemResult From(JsonElement item) => new(
        item.GetProperty("index").GetInt32(),
        item.GetProperty("outcome").GetString() ?? "",
        item.TryGetProperty("response", out var response) ? response.Clone() : null,
        item.TryGetProperty("error", out var error) ? error.GetString() : null);
}
