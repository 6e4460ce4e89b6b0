using System.Net;
using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Local;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// The tripwires through the gateway's HTTP edge: a honey model is answered byte for byte as an unknown model, a honey
/// caller as any forbidden caller, a canary record is released; each request that trips one raises exactly one event
/// (also on infer, whose orchestrated-model look-ahead runs the model checks twice), and no log holds a canary value.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class CanaryEdgeTests(InProcessStack stack)
{
    private const string CreditRisk = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [Theory]
    [InlineData("GET", "v2/models/{0}")]
    [InlineData("GET", "v2/models/{0}/versions/3")]
    [InlineData("GET", "v2/models/{0}/ready")]
    [InlineData("POST", "v2/models/{0}/infer")]
    [InlineData("POST", "v2/models/{0}/jobs")]
    public async Task HoneyModel_AnsweredAsAnUnknownModel_OneEventPerRequest(string method, string route)
    {
        // A caller of its own: the honey model's alarm blocks whoever asked.
        var subject = "edge-honey-model-" + Guid.NewGuid().ToString("N")[..8];
        using var client = stack.Client(subject);
        var before = stack.SecurityEvents.OfKind(SecurityEventKinds.HoneyModel).Count;

        var (unknownStatus, unknownBody, _) = await SendAsync(client, method, string.Format(System.Globalization.CultureInfo.InvariantCulture, route, "no-such-model"));
        var (honeyStatus, honeyBody, requestId) = await SendAsync(client, method, string.Format(System.Globalization.CultureInfo.InvariantCulture, route, LocalCanaries.HoneyModel));

        Assert.Equal((unknownStatus, unknownBody), (honeyStatus, honeyBody));
        Assert.Equal(HttpStatusCode.NotFound, honeyStatus);
        var raised = Assert.Single(stack.SecurityEvents.OfKind(SecurityEventKinds.HoneyModel).Skip(before));
        Assert.Equal(LocalCanaries.HoneyModel, raised.Model);
        Assert.Equal(stack.Pseudonym(subject), raised.Caller);
        Assert.Equal(ContainmentKind.Block, raised.Action.Kind);
        if (requestId is not null)
        {
            Assert.Equal(requestId, raised.RequestId);
        }

        // Contained at once: the prober's next request, for any model, gets the usual 403.
        var (afterStatus, _, _) = await SendAsync(client, method, string.Format(System.Globalization.CultureInfo.InvariantCulture, route, "credit-risk"));
        Assert.Equal(HttpStatusCode.Forbidden, afterStatus);
    }

    [Fact]
    public async Task HoneyModel_Unauthenticated_401AndNoEvent()
    {
        using var client = stack.Client(subject: null);
        var before = stack.SecurityEvents.Raised.Count;

        using var response = await client.GetAsync("v2/models/" + LocalCanaries.HoneyModel);

        // No alarm. The periodic summary of refused tokens may be raised meanwhile (it counts this 401 and others, and
        // never acts): seen once in CI, an event more than before, when its interval ended during this test.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(RequestEvents(before));
    }

    [Theory]
    [InlineData("GET", "v2/models/credit-risk")]
    [InlineData("POST", "v2/models/credit-risk/infer")]
    [InlineData("POST", "v2/models/credit-risk/jobs")]
    public async Task HoneyCaller_TheUsualRefusal_OneEventNamingItsPseudonym(string method, string route)
    {
        using var honey = stack.Client(LocalCanaries.HoneySubject, "risk-admin");
        using var withoutRole = stack.Client("edge-no-role");
        var before = stack.SecurityEvents.OfKind(SecurityEventKinds.HoneyCaller).Count;

        var (forbiddenStatus, forbiddenBody, _) = await SendAsync(withoutRole, method, route.Replace("credit-risk", InProcessStack.RestrictedModel, StringComparison.Ordinal));
        var (honeyStatus, honeyBody, _) = await SendAsync(honey, method, route);

        // The usual refusal of access: with HideModelExistence (default) the unknown-model 404, byte for byte.
        Assert.Equal(HttpStatusCode.NotFound, honeyStatus);
        Assert.Equal((forbiddenStatus, forbiddenBody), (honeyStatus, honeyBody));
        var raised = Assert.Single(stack.SecurityEvents.OfKind(SecurityEventKinds.HoneyCaller).Skip(before));
        Assert.Equal(stack.Pseudonym(LocalCanaries.HoneySubject), raised.Caller);
        Assert.Equal("credit-risk", raised.Model);
    }

    [Fact]
    public async Task CanaryRecord_Released_OneEventForTheRequest_NoLogHoldsTheValue()
    {
        using var client = stack.Client("edge-canary-reader");
        var before = stack.SecurityEvents.Raised.Count;

        using var response = await client.PostAsync("v2/models/customer-notes/infer", Notes(0, CustomerNotesSample.CanaryCustomerId, 3, CustomerNotesSample.CanaryCustomerId));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains(CustomerNotesSample.CanaryToken, body, StringComparison.Ordinal);
        var raised = Assert.Single(RequestEvents(before));
        Assert.Equal(SecurityEventKinds.CanaryOutput, raised.Kind);
        Assert.Equal(response.Headers.GetValues("x-request-id").Single(), raised.RequestId);
        Assert.Equal(stack.Pseudonym("edge-canary-reader"), raised.Caller);
        Assert.Equal((CustomerNotesSample.Name, "1"), (raised.Model, raised.ModelVersion));
        Assert.Equal(CanaryTokens.IdOf(CustomerNotesSample.CanaryToken), raised.Evidence["canaries"]);
        Assert.DoesNotContain(CustomerNotesSample.CanaryToken, JsonSerializer.Serialize(raised), StringComparison.Ordinal);

        var record = (await stack.AuditLinesAsync()).Single(l => l.Contains("\"requestId\":\"" + raised.RequestId + "\"", StringComparison.Ordinal) && l.Contains("\"operation\":\"infer\"", StringComparison.Ordinal));
        Assert.Contains("\"canary\":\"pass\"", record, StringComparison.Ordinal);
        Assert.DoesNotContain(CustomerNotesSample.CanaryToken, record, StringComparison.Ordinal);
        Assert.DoesNotContain(stack.GatewayLogs.GetSnapshot(), r => r.Message.Contains(CustomerNotesSample.CanaryToken, StringComparison.Ordinal));
        Assert.Empty(stack.SecurityEvents.OfKind(SecurityEventKinds.CanaryTelemetry));
        Assert.Empty(stack.SecurityEvents.OfKind(SecurityEventKinds.CanaryEgress));
    }

    [Fact]
    public async Task OrdinaryNotes_NoEvent()
    {
        using var client = stack.Client("edge-ordinary-reader");
        var before = stack.SecurityEvents.Raised.Count;

        using var response = await client.PostAsync("v2/models/customer-notes/infer", Notes([.. Enumerable.Range(0, 9).Select(i => (long)i)]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(RequestEvents(before));
    }

    [Fact]
    public async Task CanaryRecord_InAJob_OneEventForTheItem()
    {
        using var client = stack.Client("edge-canary-job");
        var before = stack.SecurityEvents.Raised.Count;
        var settledBefore = stack.SecurityEvents.Settled.Count;
        var items = "{\"items\":[" + Item(0) + "," + Item(CustomerNotesSample.CanaryCustomerId) + "]}";

        using var submitted = await client.PostAsync("v2/models/customer-notes/jobs", new StringContent(items, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        using var accepted = JsonDocument.Parse(await submitted.Content.ReadAsStringAsync());
        var id = accepted.RootElement.GetProperty("id").GetString()!;

        // The item's canary raises the alarm, whose block stops the caller from reading the job any further. The alarm
        // goes off in the job's worker, not in a request of this test's: wait until its raise has finished (the block
        // in force), not only begun.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!stack.SecurityEvents.Settled.Skip(settledBefore).Any(e => !IsPeriodicSummary(e)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var raised = Assert.Single(stack.SecurityEvents.Settled.Skip(settledBefore), e => !IsPeriodicSummary(e));
        Assert.Equal(SecurityEventKinds.CanaryOutput, raised.Kind);
        Assert.Equal(id + ".1", raised.RequestId);
        Assert.Equal(raised, Assert.Single(RequestEvents(before)));
        using var status = await client.GetAsync($"jobs/{id}");
        Assert.Equal(HttpStatusCode.Forbidden, status.StatusCode);
    }

    private static StringContent Notes(params long[] ids) =>
        new($$"""{"inputs":[{"name":"customer_id","shape":[{{ids.Length}}],"datatype":"INT64","data":[{{string.Join(',', ids)}}]}]}""", Encoding.UTF8, "application/json");

    private static string Item(long id) => $$"""{"inputs":[{"name":"customer_id","shape":[1],"datatype":"INT64","data":[{{id}}]}]}""";

    private static async Task<(HttpStatusCode Status, string Body, string? RequestId)> SendAsync(HttpClient client, string method, string route)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), route);
        if (method == "POST")
        {
            request.Content = new StringContent(CreditRisk, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var requestId = response.Headers.TryGetValues("x-request-id", out var values) ? values.Single() : null;
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), requestId);
    }

    // The events raised since before, less those the shared stack raises for other tests at any moment: the once-a-minute
    // refusal summaries, and events of no request about a model these tests do not use (a catalog refresh finding
    // another test's tampered model). Either landing in the window failed a count here in CI (2026-12-07).
    private IEnumerable<SecurityEvent> RequestEvents(int before) => stack.SecurityEvents.Raised.Skip(before).Where(e => !IsPeriodicSummary(e));

    private static bool IsPeriodicSummary(SecurityEvent e) =>
        e.Kind is SecurityEventKinds.AuthRefusals or SecurityEventKinds.RateLimitRefusals
        || (string.IsNullOrEmpty(e.RequestId) && e.Model is not (null or LocalCanaries.HoneyModel or CustomerNotesSample.Name or "credit-risk"));
}
