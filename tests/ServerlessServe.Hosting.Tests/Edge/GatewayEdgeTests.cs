using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// The gateway's HTTP edge in-process: each refusal kind reaches the caller as its V2 status and error body, every
/// authenticated request leaves exactly one audit record whose stage verdicts come from the pipeline, and nothing
/// the caller sent is echoed or logged.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class GatewayEdgeTests(InProcessStack stack)
{
    private const string Marker = "987654321";
    private const string CreditRisk = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [Fact]
    public async Task Infer_Valid_ReleasedAfterOneAuditRecordWithEveryStagePassing()
    {
        using var client = stack.Client();

        using var response = await client.PostAsync("v2/models/credit-risk/infer", Json(CreditRisk));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var body = JsonDocument.Parse(text);
        Assert.Equal("credit-risk", body.RootElement.GetProperty("model_name").GetString());
        var record = await SingleRecordAsync(response);
        Assert.Equal("released", record.GetProperty("outcome").GetString());
        Assert.Equal(
            ["admit", "authenticate", "authorize", "budget", "canary", "contain", "encode", "extract", "honey-caller", "honey-model", "infer", "limit", "misses", "read", "redact", "resolve", "screen", "signature", "squeeze", "validate"],
            record.GetProperty("stages").EnumerateObject().Select(p => p.Name));
        Assert.All(record.GetProperty("stages").EnumerateObject(), p => Assert.Equal("pass", p.Value.GetString()));

        // The Azure SDK's per-request logs (blob names, headers) stay out of the log below warning level.
        Assert.DoesNotContain(stack.GatewayLogs.GetSnapshot(), r => r.Category?.StartsWith("Azure", StringComparison.Ordinal) == true && r.Level < LogLevel.Warning);
    }

    public static TheoryData<string, string, string?, HttpStatusCode, string> Refusals() => new()
    {
        { "invalid JSON", $$"""{"inputs":[{"name":"features","data":[{{Marker}},""", "application/json", HttpStatusCode.BadRequest, "read:refused:invalid" },
        { "out of the policy's range", $$"""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,{{Marker}}]}]}""", "application/json", HttpStatusCode.BadRequest, "validate:refused:invalid" },
        { "text/plain", CreditRisk.Replace("9]", Marker + "]", StringComparison.Ordinal), "text/plain", HttpStatusCode.UnsupportedMediaType, "read:refused:unsupported_media_type" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Infer_Refused_V2ErrorNoEchoAndAuditedAtTheRefusingStage(string reason, string body, string? mediaType, HttpStatusCode status, string verdict)
    {
        using var client = stack.Client();
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = mediaType is null ? null : new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType);

        using var response = await client.PostAsync("v2/models/credit-risk/infer", content);

        Assert.Equal(status, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Marker, text, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(text).RootElement.GetProperty("error").ValueKind);
        var record = await SingleRecordAsync(response);
        var (stage, expected) = (verdict[..verdict.IndexOf(':', StringComparison.Ordinal)], verdict[(verdict.IndexOf(':', StringComparison.Ordinal) + 1)..]);
        Assert.True(expected == record.GetProperty("stages").GetProperty(stage).GetString(), reason);
        Assert.Equal(expected["refused:".Length..], record.GetProperty("outcome").GetString());
        Assert.DoesNotContain(stack.GatewayLogs.GetSnapshot(), r => r.Message.Contains(Marker, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Infer_UnknownModel_404Audited()
    {
        using var client = stack.Client();

        using var response = await client.PostAsync("v2/models/no-such-model/infer", Json(CreditRisk));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("refused:not_found", (await SingleRecordAsync(response)).GetProperty("stages").GetProperty("resolve").GetString());
    }

    [Fact]
    public async Task Infer_NoToken_401ChallengeAndNoAuditRecord()
    {
        using var client = stack.Client(subject: null);

        using var response = await client.PostAsync("v2/models/credit-risk/infer", Json(CreditRisk));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        Assert.DoesNotContain(await stack.AuditLinesAsync(), line => line.Contains(requestId, StringComparison.Ordinal));
        Assert.Contains(stack.GatewayLogs.GetSnapshot(), r => r.Id.Id == 1300 && r.Message.Contains(requestId, StringComparison.Ordinal));
    }

    /// <summary>
    /// Metadata and ready answers carry the request id their log lines name, served or refused, so a caller can quote
    /// it (identity.md; they had none before 2026-12-08).
    /// </summary>
    [Fact]
    public async Task MetadataAndReady_ServedOrRefused_CarryARequestId()
    {
        using var client = stack.Client();
        using var stranger = stack.Client(subject: null);
        stranger.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-token");

        foreach (var (caller, path) in new[] { (client, "v2/models/credit-risk"), (client, "v2/models/credit-risk/ready"), (stranger, "v2/models/credit-risk") })
        {
            using var response = await caller.GetAsync(path);
            Assert.Matches("^[0-9a-z-]{8,}$", response.Headers.GetValues("x-request-id").Single());
        }
    }

    /// <summary>
    /// A body of another media type is 415 whatever the receipt header says, as on the orchestrated path; asked for
    /// properly, its receipt comes with it (it had none before 2026-12-08).
    /// </summary>
    [Theory]
    [InlineData("?1", true)]
    [InlineData("maybe", false)]
    public async Task Infer_OtherMediaType_415_WithTheReceiptAskedFor(string receipt, bool receipted)
    {
        using var client = stack.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer") { Content = new StringContent(CreditRisk, System.Text.Encoding.UTF8, "text/plain") };
        request.Headers.TryAddWithoutValidation("x-audit-receipt", receipt);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(receipted, response.Headers.Contains("x-audit-receipt"));
    }

    [Fact]
    public async Task Metadata_ListsReleasedOutputs_EachOfWhichCanBeRequested()
    {
        using var client = stack.Client();
        using var metadata = JsonDocument.Parse(await client.GetStringAsync("v2/models/credit-risk"));
        var names = metadata.RootElement.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()!).ToList();

        foreach (var name in names)
        {
            var request = CreditRisk[..^1] + $$""","outputs":[{"name":"{{name}}"}]}""";
            using var response = await client.PostAsync("v2/models/credit-risk/infer", Json(request));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {text}");
            Assert.Equal(name, Assert.Single(JsonDocument.Parse(text).RootElement.GetProperty("outputs").EnumerateArray()).GetProperty("name").GetString());
        }
    }

    [Fact]
    public async Task Health_Open_NoTokenNeeded()
    {
        using var client = stack.Client(subject: null);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/health/ready")).StatusCode);
    }

    private async Task<JsonElement> SingleRecordAsync(HttpResponseMessage response)
    {
        var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        var line = Assert.Single(await stack.AuditLinesAsync(), l => l.Contains(requestId, StringComparison.Ordinal));
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
