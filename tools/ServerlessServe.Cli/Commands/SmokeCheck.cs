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
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return new Result(response.IsSuccessStatusCode, (int)response.StatusCode, watch.Elapsed, body);
    }
}
