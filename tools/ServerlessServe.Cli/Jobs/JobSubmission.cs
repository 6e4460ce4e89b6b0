using System.Text.Json;

namespace ServerlessServe.Cli.Jobs;

/// <summary>The gateway's answer to a submitted job: <c>{"id","status","status_url"}</c>, and that answer as received.</summary>
internal sealed record JobSubmission(string Id, string Status, string? StatusUrl, string Json)
{
    public static JobSubmission Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var id = root.GetProperty("id").GetString();
            if (string.IsNullOrEmpty(id))
            {
                throw new JobApiException("the gateway's answer to submit has no job id");
            }

            return new JobSubmission(
                id,
                root.TryGetProperty("status", out var status) ? status.GetString() ?? "" : "",
                root.TryGetProperty("status_url", out var url) ? url.GetString() : null,
                json);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new JobApiException("the gateway's answer to submit is not a job");
        }
    }
}
