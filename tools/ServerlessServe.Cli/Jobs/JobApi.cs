using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// The gateway's jobs API (docs/protocol.md, "Jobs") for one caller: submit, status, cancel. Every path is built from
/// the V2 base URL the user gave, so the token goes nowhere else (a status URL in an answer is shown, not followed).
/// Failures become <see cref="JobApiException"/> with the gateway's own (sanitised) message.
/// </summary>
internal sealed class JobApi : IDisposable
{
    /// <summary>How long one call may take before it counts as unanswered.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The gateway's answer to a path no route takes (docs/protocol.md, "Errors").</summary>
    private const string NoSuchRoute = "no such route";
    private const string NoMessage = "(no message)";

    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    public JobApi(Uri baseUrl, string token, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        _time = time;
        BaseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _http = new HttpClient { BaseAddress = BaseUrl, Timeout = CallTimeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri BaseUrl { get; }

    /// <summary><c>POST v2/models/{model}[/versions/{version}]/jobs</c> with a V2 request or <c>{"items":[...]}</c>.</summary>
    public async Task<JobSubmission> SubmitAsync(string model, string? version, byte[] body, CancellationToken cancellationToken)
    {
        var path = "v2/models/" + Uri.EscapeDataString(model) + (version is null ? "" : "/versions/" + Uri.EscapeDataString(version)) + "/jobs";
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        var (json, _) = await SendAsync(request, "job submit", jobId: null, cancellationToken).ConfigureAwait(false);
        return JobSubmission.Parse(json);
    }

    /// <summary>
    /// <c>GET jobs/{id}</c>; <see cref="JobDocument"/> plus any <c>Retry-After</c> the gateway sent. Errors name
    /// <paramref name="operation"/>, the command the user ran.
    /// </summary>
    public async Task<(JobDocument Job, TimeSpan? RetryAfter)> GetAsync(string id, string operation, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, JobPath(id));
        var (json, retryAfter) = await SendAsync(request, operation, id, cancellationToken).ConfigureAwait(false);
        return (JobDocument.Parse(json), retryAfter);
    }

    /// <summary><c>DELETE jobs/{id}</c>: the job's status after the request (<c>cancelled</c>, or how it had already ended).</summary>
    public async Task<(string Status, string Json)> CancelAsync(string id, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, JobPath(id));
        var (json, _) = await SendAsync(request, "job cancel", id, cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(json);
            return (document.RootElement.GetProperty("status").GetString() ?? "", json);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new JobApiException("the gateway's answer to cancel is not a job status");
        }
    }

    public void Dispose() => _http.Dispose();

    private static string JobPath(string id) => "jobs/" + Uri.EscapeDataString(id);

    private async Task<(string Json, TimeSpan? RetryAfter)> SendAsync(HttpRequestMessage request, string operation, string? jobId, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new JobApiException($"{operation}: no gateway answers at {BaseUrl} ({TerminalText.Clean(ex.Message)}); is the stack up (ssctl up) and --url right?", null, transient: true, innerException: ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new JobApiException($"{operation}: the gateway at {BaseUrl} did not answer within {CallTimeout.TotalSeconds:F0} s", null, transient: true, innerException: ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var retryAfter = RetryAfter(response.Headers.RetryAfter);
            if (response.IsSuccessStatusCode)
            {
                return (body, retryAfter);
            }

            var status = (int)response.StatusCode;
            throw new JobApiException(Describe(operation, jobId, response.StatusCode, ServerMessage(body)), status, status >= 500 || status == 429, retryAfter);
        }
    }

    private string Describe(string operation, string? jobId, HttpStatusCode status, string message) => (status, message) switch
    {
        (HttpStatusCode.NotFound, NoSuchRoute or NoMessage) => $"{operation}: {BaseUrl} has no jobs API (404: {message}); --url must be the gateway's V2 base URL, such as {Commands.CommonOptions.LocalGateway}",
        (HttpStatusCode.NotFound, _) when jobId is not null => $"{operation}: job {TerminalText.Clean(jobId, 80)} not found: no such job, or it was submitted with another caller's token",
        (HttpStatusCode.Unauthorized, _) => $"{operation}: the gateway refused the token (401: {message}); mint one with `ssctl token`, or pass --token or $SERVERLESSSERVE_TOKEN",
        _ => $"{operation}: the gateway answered {(int)status}: {message}",
    };

    /// <summary>The <c>error</c> of a V2 error body, cleaned for the terminal; a body without one says so.</summary>
    private static string ServerMessage(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.String)
            {
                return TerminalText.Clean(error.GetString());
            }
        }
        catch (JsonException)
        {
            // An empty or non-JSON body (a proxy, or the Functions host refusing before the app): no message.
        }

        return NoMessage;
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _time.GetUtcNow() is { Ticks: > 0 } wait ? wait : TimeSpan.Zero,
        _ => null,
    };
}
