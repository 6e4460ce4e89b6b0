using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// No existence oracle (<see cref="EdgeOptions.HideModelExistence"/>, on by default): a caller the model's policy does
/// not admit gets, for a model that exists, exactly the answer it gets for one that does not — status, headers and body
/// byte for byte, apart from the request id — on every model route; the audit record keeps the true reason.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class ExistenceOracleTests(InProcessStack stack)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    private const string Missing = "no-such-model-anywhere";

    public static TheoryData<string, string, string> Routes => new()
    {
        { "GET", $"v2/models/{InProcessStack.RestrictedModel}", $"v2/models/{Missing}" },
        { "GET", $"v2/models/{InProcessStack.RestrictedModel}/versions/1", $"v2/models/{Missing}/versions/1" },
        { "GET", $"v2/models/{InProcessStack.RestrictedModel}/versions/1", $"v2/models/{InProcessStack.RestrictedModel}/versions/99" },
        { "GET", $"v2/models/{InProcessStack.RestrictedModel}/ready", $"v2/models/{Missing}/ready" },
        { "GET", $"v2/models/{InProcessStack.RestrictedModel}/versions/1/ready", $"v2/models/{Missing}/versions/1/ready" },
        { "POST", $"v2/models/{InProcessStack.RestrictedModel}/infer", $"v2/models/{Missing}/infer" },
        { "POST", $"v2/models/{InProcessStack.RestrictedModel}/versions/1/infer", $"v2/models/{Missing}/versions/1/infer" },
        { "POST", $"v2/models/{InProcessStack.RestrictedModel}/versions/1/infer", $"v2/models/{InProcessStack.RestrictedModel}/versions/99/infer" },
        { "POST", $"v2/models/{InProcessStack.RestrictedModel}/jobs", $"v2/models/{Missing}/jobs" },
        { "POST", $"v2/models/{InProcessStack.RestrictedModel}/versions/1/jobs", $"v2/models/{Missing}/versions/1/jobs" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task CallerWithoutRole_ExistingAndMissingModel_ByteIdenticalAnswers(string method, string existing, string missing)
    {
        using var client = stack.Client("oracle-prober");

        var existingBody = await AssertAnsweredAsForAMissingModelAsync(client, method, existing, missing);

        Assert.Equal(V2Results.HiddenModel.Message, JsonDocument.Parse(existingBody).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task CallerWithRole_StillServed_AndMissingModelAnswersTheSame()
    {
        using var admitted = stack.Client("oracle-admitted", "risk-admin");
        using var prober = stack.Client("oracle-prober");

        using var served = await admitted.GetAsync($"v2/models/{InProcessStack.RestrictedModel}");
        var (_, _, missingForAdmitted) = await SendAsync(admitted, "GET", $"v2/models/{Missing}");
        var (_, _, refused) = await SendAsync(prober, "GET", $"v2/models/{InProcessStack.RestrictedModel}");

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(missingForAdmitted, refused);
    }

    /// <summary>
    /// A deprecated version's dates go only to callers admitted to the model. (Found in review: the gateway set them at
    /// resolve, before authorize, and added them to every answer, so the "model not found" a caller without the role
    /// got carried Deprecation and Sunset, which a model that does not exist never does.)
    /// </summary>
    [Fact]
    public async Task DeprecatedVersion_CallerWithoutRole_TheUnknownModelAnswerCarriesNoDates()
    {
        var name = "oracle-deprecated-" + Guid.NewGuid().ToString("N")[..6];
        var store = stack.GatewayServices.GetRequiredService<ModelStore>();
        await store.PublishAsync(TestPackages.CreditRisk(name, "1", policy: InProcessStack.RestrictedPolicy()));
        await store.PublishAsync(TestPackages.CreditRisk(name, "2", policy: InProcessStack.RestrictedPolicy()));
        var since = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await new ControlStore(store.Container, TestPackages.Trusted()).PublishAsync(
            new ModelLifecycle
            {
                SchemaVersion = 1,
                Name = name,
                Sequence = 1,
                Issued = since,
                SignerKeyId = KeyIds.Compute(TestPackages.Signer),
                Versions = new Dictionary<string, VersionLifecycle> { ["1"] = new(VersionState.Deprecated, since, since.AddYears(50)) },
            },
            TestPackages.Signer,
            default);
        using var admitted = stack.Client("oracle-admitted", "risk-admin");
        var dated = false;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !dated && DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            using var answer = await admitted.GetAsync($"v2/models/{name}/versions/1");
            dated = answer.StatusCode == HttpStatusCode.OK && answer.Headers.Contains("Deprecation");
        }

        Assert.True(dated, "the admitted caller never saw the deprecation");
        using var prober = stack.Client("oracle-prober");
        foreach (var (method, path, missing) in new[]
        {
            ("GET", $"v2/models/{name}/versions/1", $"v2/models/{Missing}/versions/1"),
            ("GET", $"v2/models/{name}/versions/1/ready", $"v2/models/{Missing}/versions/1/ready"),
            ("POST", $"v2/models/{name}/versions/1/infer", $"v2/models/{Missing}/versions/1/infer"),
        })
        {
            await AssertAnsweredAsForAMissingModelAsync(prober, method, path, missing);
        }
    }

    [Fact]
    public async Task RefusedInfer_AuditKeepsTheTrueReason()
    {
        using var client = stack.Client("oracle-audited");

        using var response = await client.PostAsync($"v2/models/{InProcessStack.RestrictedModel}/infer", new StringContent(Body, Encoding.UTF8, "application/json"));
        var requestId = response.Headers.GetValues(RequestIds.Header).Single();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var record = (await stack.AuditLinesAsync())
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Single(r => r.TryGetProperty("requestId", out var id) && id.GetString() == requestId);
        Assert.Equal("forbidden", record.GetProperty("outcome").GetString());
        Assert.Equal("refused:forbidden", record.GetProperty("stages").GetProperty("authorize").GetString());
    }

    [Fact]
    public async Task NoVersionMayServe_CallerWithoutRoleGetsTheUnknownModelAnswer_CallerWithRole503()
    {
        var name = "oracle-withdrawn-" + Guid.NewGuid().ToString("N")[..6];
        var services = stack.GatewayServices;
        await services.GetRequiredService<ModelStore>().PublishAsync(TestPackages.CreditRisk(name, "1", policy: InProcessStack.RestrictedPolicy()));
        using var admitted = stack.Client("oracle-admitted", "risk-admin");
        using var prober = stack.Client("oracle-prober");
        using (var served = await admitted.GetAsync($"v2/models/{name}"))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        // The only version stops serving (as when re-attestation fails): it exists, but nothing may serve.
        var catalog = services.GetRequiredService<ModelCatalog>();
        catalog.MarkTampered(await catalog.ResolveAsync(name, "1", default), "test: withdrawn");

        foreach (var (method, path, missing) in new[] { ("GET", $"v2/models/{name}", $"v2/models/{Missing}"), ("POST", $"v2/models/{name}/versions/1/infer", $"v2/models/{Missing}/versions/1/infer") })
        {
            await AssertAnsweredAsForAMissingModelAsync(prober, method, path, missing);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SendAsync(admitted, method, path)).Status);
        }

        // The audit record keeps why.
        using var refused = await prober.PostAsync($"v2/models/{name}/infer", new StringContent(Body, Encoding.UTF8, "application/json"));
        var requestId = refused.Headers.GetValues(RequestIds.Header).Single();
        var record = (await stack.AuditLinesAsync()).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(r => r.TryGetProperty("requestId", out var id) && id.GetString() == requestId);
        Assert.Equal("refused:unavailable:access_unproven", record.GetProperty("stages").GetProperty("resolve").GetString());
    }

    [Theory]
    [InlineData(true, 404)]
    [InlineData(false, 403)]
    public void RefusedOnModel_FollowsTheSetting(bool hide, int status)
    {
        Assert.Equal(status, V2Results.RefusedOnModel(Refusal.Denied, V2Results.AuthorizeStage, hide).StatusCode);
        Assert.Equal(404, V2Results.RefusedOnModel(Refusal.NotFound("model version not found"), "resolve", hide).StatusCode);
        var unproven = ModelCatalog.VersionUnavailable with { Reason = ResolveModel.AccessUnproven };
        Assert.Equal(hide ? 404 : 503, V2Results.RefusedOnModel(unproven, "resolve", hide).StatusCode);
        Assert.Equal(503, V2Results.RefusedOnModel(ModelCatalog.VersionUnavailable, "resolve", hide).StatusCode);
    }

    [Fact]
    public void RefusedOnModel_BlockedCallerBeforeResolve_Stays403()
    {
        // A refusal before the model is resolved is the same for every model name: it reveals nothing and keeps its status.
        Assert.Equal(403, V2Results.RefusedOnModel(Refusal.Denied with { Reason = "blocked" }, "contain", hideModelExistence: true).StatusCode);
    }

    // The answer to <paramref name="path"/> is 404 and, status, headers and body, the answer to <paramref name="missing"/>; returns its body.
    private static async Task<byte[]> AssertAnsweredAsForAMissingModelAsync(HttpClient client, string method, string path, string missing)
    {
        var (status, headers, body) = await SendAsync(client, method, path);
        var (missingStatus, missingHeaders, missingBody) = await SendAsync(client, method, missing);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(missingStatus, status);
        Assert.Equal(missingHeaders, headers);
        Assert.Equal(missingBody, body);
        return body;
    }

    private static async Task<(HttpStatusCode Status, string Headers, byte[] Body)> SendAsync(HttpClient client, string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent(Body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var headers = string.Join('\n', response.Headers.Concat(response.Content.Headers)
            .Where(h => !h.Key.Equals(RequestIds.Header, StringComparison.OrdinalIgnoreCase) && !h.Key.Equals("Date", StringComparison.OrdinalIgnoreCase))
            .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .Select(h => h.Key + ": " + string.Join(",", h.Value)));
        return (response.StatusCode, headers, await response.Content.ReadAsByteArrayAsync());
    }
}
