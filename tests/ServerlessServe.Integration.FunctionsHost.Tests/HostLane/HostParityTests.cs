using System.Net.Http.Headers;
using System.Text;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.HostLane;

/// <summary>
/// Parity of the two hosts, side by side: the lane's stack under the Functions host and a second gateway and inference
/// app under the standalone host, on the same storage, keys and models, get the same requests and must give the same
/// answers — status, the headers that matter and the body. Only what the host decides before the worker differs, and
/// that is asserted in <see cref="FunctionsHostBehaviourTests"/>.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class HostParityTests(StackFixture fixture)
{
    private static readonly string[] HeadersThatMatter =
        ["Content-Type", "Allow", "WWW-Authenticate", "Cache-Control", "X-Content-Type-Options", "Inference-Header-Content-Length"];

    public static TheoryData<string, string, string, string?, string?> Requests() => new()
    {
        { "live", "GET", "v2/health/live", null, null },
        { "ready", "GET", "v2/health/ready", null, null },
        { "server metadata", "GET", "v2", null, null },
        { "model metadata", "GET", "v2/models/credit-risk", null, null },
        { "version metadata", "GET", "v2/models/customer-notes/versions/1", null, null },
        { "model ready", "GET", "v2/models/credit-risk/ready", null, null },
        { "unknown model", "GET", "v2/models/no-such-model", null, null },
        { "bad model name", "POST", "v2/models/UPPER/infer", "application/json", """{"inputs":[]}""" },
        { "infer", "POST", "v2/models/credit-risk/infer", "application/json", """{"id":"a","inputs":[{"name":"features","shape":[2,4],"datatype":"FP32","data":[0.1,0.2,1,9,0.9,0.8,3,1]}]}""" },
        { "infer, pinned version, one output", "POST", "v2/models/credit-risk/versions/1/infer", "application/json", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.3,0.2,1,4]}],"outputs":[{"name":"probabilities"}]}""" },
        { "infer, binary output", "POST", "v2/models/credit-risk/infer", "application/json", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.3,0.2,1,4]}],"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]}""" },
        { "infer, redacted", "POST", "v2/models/customer-notes/infer", "application/json", """{"inputs":[{"name":"customer_id","shape":[1],"datatype":"INT64","data":[3]}]}""" },
        { "infer, no content type", "POST", "v2/models/credit-risk/infer", null, """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""" },
        { "infer, text/plain", "POST", "v2/models/credit-risk/infer", "text/plain", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""" },
        { "infer, malformed JSON", "POST", "v2/models/credit-risk/infer", "application/json", """{"inputs":[""" },
        { "infer, unknown field", "POST", "v2/models/credit-risk/infer", "application/json", """{"inputs":[],"x":1}""" },
        { "infer, out of range", "POST", "v2/models/credit-risk/infer", "application/json", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,999999]}]}""" },
        { "infer, empty body", "POST", "v2/models/credit-risk/infer", "application/json", "" },
        { "wrong method", "DELETE", "v2/models/credit-risk/infer", null, null },
        { "wrong method on metadata", "POST", "v2/models/credit-risk", "application/json", "{}" },
        { "no such route", "GET", "v2/nothing/here", null, null },
        { "no such route, outside v2", "PUT", "other", null, null },
        { "live, HEAD", "HEAD", "v2/health/live", null, null },
        { "ready, HEAD", "HEAD", "v2/health/ready", null, null },
        { "server metadata, HEAD", "HEAD", "v2", null, null },
        { "model metadata, HEAD", "HEAD", "v2/models/credit-risk", null, null },
        { "model ready, HEAD", "HEAD", "v2/models/credit-risk/ready", null, null },
        { "unknown model, HEAD", "HEAD", "v2/models/no-such-model", null, null },
        { "HEAD on infer", "HEAD", "v2/models/credit-risk/infer", null, null },
    };

    [StackTheory]
    [MemberData(nameof(Requests))]
    public async Task SameRequest_SameAnswerUnderBothHosts(string what, string method, string path, string? mediaType, string? body)
    {
        var standalone = await fixture.ExtraPairAsync(
            "parity-standalone",
            AppHost.Standalone,
            new Dictionary<string, string>
            {
                ["ServerlessServe:Audit:Container"] = "audit-parity",

                // A log of its own needs a witness of its own (docs/audit.md).
                ["ServerlessServe:Audit:Witness:Container"] = "audit-parity-witness",
            });
        foreach (var authorization in new[] { fixture.CallerToken, null })
        {
            var underHost = await SendAsync(fixture.Stack.GatewayBaseUrl, authorization, method, path, mediaType, body);
            var alone = await SendAsync(standalone.GatewayBaseUrl, authorization, method, path, mediaType, body);

            Assert.True(alone == underHost, $"{what} ({(authorization is null ? "no token" : "token")}):\nstandalone: {alone}\nFunctions host: {underHost}");
            if (method == "HEAD")
            {
                // And it is the GET's answer without the body (RFC 9110 §9.3.2), not merely the same wrong one twice.
                var get = await SendAsync(fixture.Stack.GatewayBaseUrl, authorization, "GET", path, null, null, asHead: true);
                Assert.True(get == underHost, $"{what} ({(authorization is null ? "no token" : "token")}):\nGET as HEAD: {get}\nHEAD: {underHost}");
            }
        }
    }

    // asHead (a HEAD's own answer, or a GET's to compare with one): the body's declared length instead of its bytes.
    private static async Task<string> SendAsync(Uri baseUrl, string? token, string method, string path, string? mediaType, string? body, bool asHead = false)
    {
        asHead |= method == "HEAD";
        using var client = new HttpClient { BaseAddress = baseUrl };
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (mediaType is not null)
            {
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            }
        }

        using var response = await client.SendAsync(request);
        var answer = new StringBuilder().Append((int)response.StatusCode).Append('\n');
        foreach (var name in HeadersThatMatter)
        {
            if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
            {
                answer.Append(name).Append(": ").Append(string.Join(", ", values)).Append('\n');
            }
        }

        // A server-made request id on every answer that ran a pipeline; its value differs by nature.
        answer.Append("x-request-id: ").Append(response.Headers.Contains("x-request-id") ? "yes" : "no").Append('\n');
        var content = await response.Content.ReadAsByteArrayAsync();
        if (asHead)
        {
            // A HEAD's answer declares the GET's length and sends none of it; a GET's declared length, or what it sent.
            answer.Append("Content-Length: ").Append(response.Content.Headers.ContentLength ?? content.Length).Append('\n');
            answer.Append("body bytes: ").Append(method == "HEAD" ? content.Length : 0);
            return answer.ToString();
        }

        answer.Append(Convert.ToBase64String(content));
        return answer.ToString();
    }
}
