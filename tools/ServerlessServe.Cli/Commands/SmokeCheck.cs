using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace ServerlessServe.Cli.Commands;

/// <summary>The first request `ssctl up` sends through the gateway, to prove the stack serves before saying so.</summary>
internal static class SmokeCheck
{
    public const string SampleBody = """{"inputs":[{"name":"customer_id","shape":[1],"datatype":"INT64","data":[7]}]}""";

    public sealed record Result(bool Ok, int Status, TimeSpan Elapsed, string Body);

    public static async Task<Result> InferAsync(Uri gatewayBaseUrl, string token, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = gatewayBaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/customer-notes/infer")
        {
            Content = new StringContent(SampleBody, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return new Result(response.IsSuccessStatusCode, (int)response.StatusCode, watch.Elapsed, body);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // No answer (the connection dropped, or none within the time-out): a failed first request, reported as one
            // with the stack left running to be looked at, never "ssctl: cancelled" and the stack torn down.
            var reason = ex is HttpRequestException ? "no answer: " + ex.Message : $"no answer within {http.Timeout.TotalSeconds:0} s";
            return new Result(false, 0, watch.Elapsed, reason);
        }
    }
}
