using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ServerlessServe.Local.Fuzz;

/// <summary>
/// The edge fuzzer's probes of a job's own routes (<c>GET</c> and <c>DELETE jobs/{id}</c>), sent for some of the jobs
/// it follows. Each returns null when every answer was what the job's routes promise, otherwise what was wrong:
/// <list type="bullet">
/// <item><description>another caller, naming the job's exact id, gets 404 as for a job that does not exist, and its
/// <c>DELETE</c>, sent while the job may still run, stops nothing (the job must still end as its own caller has it
/// end);</description></item>
/// <item><description>the caller's own requests with a mutated id (a digit changed, upper case, cut short, extended,
/// encoded slashes, dots and spaces, non-ASCII, 4,096 characters, the caller's prefix with another suffix, an extra path
/// segment, none) get a refusal with the V2 error body, never a job;</description></item>
/// <item><description>a status request with an odd <c>Prefer</c> header (malformed, negative, huge, repeated) gets the
/// ended job as a plain one does: the preference is ignored, never refused;</description></item>
/// <item><description>other methods on the job's route are refused; the caller's <c>DELETE</c> of the ended job answers
/// 202 with its status unchanged; after all of it, the job's status and results are exactly what they were.</description></item>
/// </list>
/// A 429 is waited out (as <c>Retry-After</c> says), as a caller would.
/// </summary>
public static class JobRouteProbes
{
    private static readonly string[] OddPreferences =
    [
        "wait=abc", "wait=-1", "wait=9999999", "wait=1.5", "wait", "wait=", "respond-async, wait=1", "wait=0;foo=bar", "WAIT=1", "wait=\"2\"",
        "wait=1, wait=2", "wait=1 1", "wait=+1", "wait=0x10", ",,,", "wait=1;", new string('w', 4000),
    ];

    private static readonly string[] OtherMethods = ["PUT", "PATCH", "POST"];

    /// <summary>The job id in an accepted submission's answer, or null.</summary>
    public static string? IdOf(string answer)
    {
        try
        {
            using var document = JsonDocument.Parse(answer);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("id", out var id)
                && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Another caller names the job (<paramref name="otherToken"/>): its <c>DELETE</c> and its <c>GET</c> must both answer
    /// 404 with the V2 error body. Sent as soon as the job is accepted, so the <c>DELETE</c> meets a job that may still run.
    /// </summary>
    public static async Task<string?> AsAnotherCallerAsync(HttpClient client, string otherToken, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(id);
        foreach (var method in new[] { HttpMethod.Delete, HttpMethod.Get })
        {
            var (status, body) = await SendAsync(client, method, JobPath(id), otherToken, null, cancellationToken).ConfigureAwait(false);
            if (status != HttpStatusCode.NotFound || !EdgeFuzzer.IsErrorBody(body))
            {
                return string.Create(CultureInfo.InvariantCulture, $"another caller's {method} of the job answered {(int)status}: {Clip(body)}");
            }
        }

        return null;
    }

    /// <summary>
    /// The job's own caller probes its routes once it has ended well (<paramref name="ended"/>): a status with an odd
    /// <c>Prefer</c>, three mutated ids, another method, a <c>DELETE</c> of the ended job, and a last status that must
    /// equal the first. <paramref name="random"/> picks the variants (seeded per case, so a finding replays).
    /// </summary>
    public static async Task<string?> AsItsCallerAsync(HttpClient client, string token, JobEnding ended, Random random, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(random);
        var id = ended.Id ?? throw new ArgumentException("The job has no id.", nameof(ended));
        var status = ended.Cancelled ? "cancelled" : "completed";

        var prefer = OddPreferences[random.Next(OddPreferences.Length)];
        var (code, first) = await SendAsync(client, HttpMethod.Get, JobPath(id), token, prefer, cancellationToken).ConfigureAwait(false);
        if (code != HttpStatusCode.OK || Describe(first) is not { } before || before.Id != id || before.Status != status)
        {
            return string.Create(CultureInfo.InvariantCulture, $"its status with Prefer '{Clip(prefer)}' answered {(int)code}: {Clip(first)} (the job {status})");
        }

        for (var i = 0; i < 3; i++)
        {
            var (mutation, path) = MutatedPath(random, id);
            var method = random.Next(2) == 0 ? HttpMethod.Get : HttpMethod.Delete;
            (code, var body) = await SendAsync(client, method, path, token, null, cancellationToken).ConfigureAwait(false);
            if ((int)code is < 400 or >= 500 || !EdgeFuzzer.IsErrorBody(body))
            {
                return string.Create(CultureInfo.InvariantCulture, $"its {method} of the id {mutation} ({Clip(path)}) answered {(int)code}: {Clip(body)}");
            }
        }

        var other = new HttpMethod(OtherMethods[random.Next(OtherMethods.Length)]);
        (code, var refused) = await SendAsync(client, other, JobPath(id), token, null, cancellationToken).ConfigureAwait(false);
        if (code is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed) || !EdgeFuzzer.IsErrorBody(refused))
        {
            return string.Create(CultureInfo.InvariantCulture, $"its {other} of the job answered {(int)code}: {Clip(refused)}");
        }

        (code, var cancelled) = await SendAsync(client, HttpMethod.Delete, JobPath(id), token, null, cancellationToken).ConfigureAwait(false);
        if (code != HttpStatusCode.Accepted || Describe(cancelled) is not { } afterCancel || afterCancel.Id != id || afterCancel.Status != status)
        {
            return string.Create(CultureInfo.InvariantCulture, $"its DELETE of the ended job answered {(int)code}: {Clip(cancelled)} (the job {status})");
        }

        (code, var last) = await SendAsync(client, HttpMethod.Get, JobPath(id), token, null, cancellationToken).ConfigureAwait(false);
        if (code != HttpStatusCode.OK || Describe(last) is not { } after || after != before)
        {
            return string.Create(CultureInfo.InvariantCulture, $"its status after the probes answered {(int)code} and changed: {Clip(last)}");
        }

        return null;
    }

    /// <summary>One request as a caller, waiting out 429s as <c>Retry-After</c> says (1 s when it says nothing).</summary>
    public static async Task<(HttpStatusCode Status, string Body)> SendAsync(
        HttpClient client, HttpMethod method, string path, string token, string? prefer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        while (true)
        {
            using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (prefer is not null)
            {
                request.Headers.TryAddWithoutValidation("Prefer", prefer);
            }

            using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.TooManyRequests)
            {
                return (response.StatusCode, text);
            }

            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The route of job <paramref name="id"/>, relative to the gateway's <c>/api/</c>.</summary>
    public static string JobPath(string id) => "jobs/" + Uri.EscapeDataString(id);

    /// <summary>
    /// A path naming something that is not job <paramref name="id"/>, whatever the gateway decodes it to (no raw dot
    /// segments: the client would remove them and name the job itself).
    /// </summary>
    public static (string Mutation, string Path) MutatedPath(Random random, string id)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(id);
        switch (random.Next(11))
        {
            case 0:
                var at = random.Next(id.Length);
                var digit = "0123456789abcdef".Replace(id[at].ToString(), "", StringComparison.Ordinal)[random.Next(15)];
                return ("with one digit changed", JobPath(string.Concat(id.AsSpan(0, at), digit.ToString(), id.AsSpan(at + 1))));
            case 1 when id.Any(char.IsAsciiLetterLower):
                return ("in upper case", JobPath(id.ToUpperInvariant()));
            case 2:
                return ("cut short", JobPath(id[..random.Next(1, id.Length)]));
            case 3:
                return ("extended", JobPath(id + RandomHex(random, 1 + random.Next(8))));
            case 4:
                return ("behind an encoded ../", "jobs/%2E%2E%2F" + id);
            case 5:
                // Not %00: Kestrel refuses a path with NUL before the app sees it (and the test server's client throws).
                return ("with an encoded space", "jobs/" + id[..(id.Length / 2)] + "%20" + id[(id.Length / 2)..]);
            case 6:
                return ("4,096 characters long", JobPath(id + RandomHex(random, 4096 - id.Length)));
            case 7:
                return ("with a non-ASCII character", JobPath(id[..^1] + "\u00e9"));
            case 8:
                return ("with the caller's prefix and another suffix", JobPath(id[..8] + RandomHex(random, id.Length - 8)));
            case 9:
                return ("with an extra segment", JobPath(id) + "/results");
            default:
                return ("missing", "jobs/");
        }
    }

    private static string RandomHex(Random random, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = "0123456789abcdef"[random.Next(16)];
        }

        return new string(chars);
    }

    // The job's id, status and results (raw), from a status answer; null when it is not one.
    private static (string? Id, string? Status, string? Results)? Describe(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return (
                root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null,
                root.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String ? status.GetString() : null,
                root.TryGetProperty("results", out var results) ? results.GetRawText() : null);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Clip(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
