using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Security;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Integration.Tests.Containment;

/// <summary>
/// Containment and limits over real processes: a second gateway on the same storage (another instance of the same
/// app), the shared containment and budget tables on Azurite, and <c>ssctl contain</c>. Each test has callers and
/// models of its own.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ContainmentTests(StackFixture fixture)
{
    /// <summary>The longest a change may take to reach every instance here (each reads the table every 2 s).</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(20);

    [StackFact]
    public async Task ExtractionSimulation_EndsWithTheCallerBlockedOnEveryInstance_ThenLiftedBySsctl()
    {
        var second = await SecondGateway.StartAsync(fixture);
        var subject = "extractor-" + Guid.NewGuid().ToString("N")[..8];
        using var onSecond = Client(second.GatewayBaseUrl, subject);
        using var onFirst = Client(fixture.Stack.GatewayBaseUrl, subject);
        var rows = ScreenedDigits();

        // Held-out digits, 8 a request, on the second instance: its volume limit is 20 rows, so the third request
        // raises the alarm (and is still served); the block is in force from the next request on.
        var served = 0;
        for (var i = 0; i < 3; i++)
        {
            using var response = await onSecond.PostAsync("v2/models/digits/infer", StackFixture.Json(Request(rows.Skip(i * 8).Take(8))));
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + fixture.LogTail());
            served++;
        }

        var pseudonym = Pseudonym(subject);
        var alarm = Assert.Single(await SecurityRecordsAsync(SecurityEventKinds.Extraction, pseudonym));
        Assert.Equal(("block", "digits"), (alarm.Security!.Action, alarm.Model));
        Assert.Contains("volume", alarm.Security.Evidence["signals"], StringComparison.Ordinal);
        Assert.NotNull(alarm.Security.Until);

        // Refused on both instances, with the very body any access refusal gets.
        var denied = await DeniedBodyAsync();
        foreach (var client in new[] { onSecond, onFirst })
        {
            var (status, body) = await EventuallyAsync(client, HttpStatusCode.Forbidden, rows[30]);
            Assert.True(status == HttpStatusCode.Forbidden, $"{status}: {body}{fixture.LogTail()}");
            Assert.Equal(denied, body);
        }

        // Another caller is not affected.
        using var bystander = Client(fixture.Stack.GatewayBaseUrl, "bystander-" + Guid.NewGuid().ToString("N")[..8]);
        using (var ok = await bystander.PostAsync("v2/models/digits/infer", StackFixture.Json(Request([rows[31]]))))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var list = await Ssctl.RunAsync(fixture, ["contain", "list", "--connection-string", fixture.Stack.Azurite.ConnectionString]);
        Assert.True(list.ExitCode == 0, list.Output);
        Assert.Contains(pseudonym, list.Stdout, StringComparison.Ordinal);

        var lift = await Ssctl.RunAsync(fixture, ["contain", "lift", "block", pseudonym, "--connection-string", fixture.Stack.Azurite.ConnectionString]);
        Assert.True(lift.ExitCode == 0, lift.Output);
        foreach (var client in new[] { onFirst, onSecond })
        {
            var (status, body) = await EventuallyAsync(client, HttpStatusCode.OK, rows[32]);
            Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        }

        // One alarm: the signal stays raised in the caller's state, so it does not alarm again.
        Assert.Single(await SecurityRecordsAsync(SecurityEventKinds.Extraction, pseudonym));
        Assert.Equal(3, served);
    }

    [StackFact]
    public async Task DailyBudget_SharedByTwoInstances_NeverExceeded_ThenRetryAfter()
    {
        var second = await SecondGateway.StartAsync(fixture);
        var model = "budget-" + Guid.NewGuid().ToString("N")[..8];
        var policy = System.Text.Json.Nodes.JsonNode.Parse(SampleModels.GetPolicy(CreditRiskSample.Name))!.AsObject();
        policy["limits"] = System.Text.Json.Nodes.JsonNode.Parse("""{"dailyElements":40}""");
        await PublishAsync(model, "1", Encoding.UTF8.GetBytes(policy.ToJsonString()));
        var subject = "budgeted-" + Guid.NewGuid().ToString("N")[..8];
        using var onFirst = Client(fixture.Stack.GatewayBaseUrl, subject);
        using var onSecond = Client(second.GatewayBaseUrl, subject);

        // 4 elements a request, 40 a day: 10 requests at most, whichever instance serves them.
        var served = 0;
        var refused = new List<HttpResponseMessage>();
        for (var i = 0; i < 16; i++)
        {
            var response = await (i % 2 == 0 ? onFirst : onSecond).PostAsync($"v2/models/{model}/infer", StackFixture.Json(CreditRiskBody));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                served++;
                response.Dispose();
            }
            else
            {
                refused.Add(response);
            }
        }

        try
        {
            // Each instance may hold one slice (4 elements) it has not spent: at most two requests' worth unserved.
            Assert.InRange(served, 8, 10);
            Assert.All(refused, r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
            Assert.All(refused, r => Assert.True(r.Headers.RetryAfter?.Delta > TimeSpan.Zero));
        }
        finally
        {
            refused.ForEach(r => r.Dispose());
        }
    }

    [StackFact]
    public async Task DailyBudget_JobItemsChargedAsRequests_PastItRefusedAlone_NeverExceeded()
    {
        // 4 elements an item, 12 a day: a job of 5 items under the real durable engine, then sync requests.
        var model = "job-budget-" + Guid.NewGuid().ToString("N")[..8];
        var policy = System.Text.Json.Nodes.JsonNode.Parse(SampleModels.GetPolicy(CreditRiskSample.Name))!.AsObject();
        policy["limits"] = System.Text.Json.Nodes.JsonNode.Parse("""{"dailyElements":12}""");
        await PublishAsync(model, "1", Encoding.UTF8.GetBytes(policy.ToJsonString()));
        using var client = Client(fixture.Stack.GatewayBaseUrl, "job-budgeted-" + Guid.NewGuid().ToString("N")[..8]);

        var job = await Jobs.JobClient.SubmitAsync(fixture, client, $"v2/models/{model}/jobs", "{\"items\":[" + string.Join(',', Enumerable.Repeat(CreditRiskBody, 5)) + "]}");
        var status = await Jobs.JobClient.WaitAsync(client, job);

        Assert.Equal("completed", status.GetProperty("status").GetString());
        var results = status.GetProperty("results").EnumerateArray().ToList();
        var released = results.Count(r => r.GetProperty("outcome").GetString() == "released");
        Assert.InRange(released, 1, 3);
        Assert.All(results.Where(r => r.GetProperty("outcome").GetString() != "released"), r =>
            Assert.Equal(("rate_limited", "daily budget spent"), (r.GetProperty("outcome").GetString(), r.GetProperty("error").GetString())));

        var served = released;
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync($"v2/models/{model}/infer", StackFixture.Json(CreditRiskBody));
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, response.StatusCode.ToString());
            served += response.StatusCode == HttpStatusCode.OK ? 1 : 0;
        }

        Assert.InRange(served, released, 3);
    }

    [StackFact]
    public async Task Flood_OneCallerAt10xItsRateGets429s_AnotherWithinItsRateIsAllServed_RefusalsSummarisedNoneLost()
    {
        var model = "limited-" + Guid.NewGuid().ToString("N")[..8];
        var policy = System.Text.Json.Nodes.JsonNode.Parse(SampleModels.GetPolicy(CreditRiskSample.Name))!.AsObject();
        policy["limits"] = System.Text.Json.Nodes.JsonNode.Parse("""{"requestsPerSecond":2,"burst":2}""");
        await PublishAsync(model, "1", Encoding.UTF8.GetBytes(policy.ToJsonString()));
        var flooderSubject = "flooder-" + Guid.NewGuid().ToString("N")[..8];
        using var flooder = Client(fixture.Stack.GatewayBaseUrl, flooderSubject);
        using var steady = Client(fixture.Stack.GatewayBaseUrl, "steady-" + Guid.NewGuid().ToString("N")[..8]);

        // The flooder sends 40 requests, 8 at a time; the steady caller 4, one every 600 ms (under its 2 a second).
        var flood = Task.Run(async () =>
        {
            var statuses = new List<HttpStatusCode>();
            for (var round = 0; round < 5; round++)
            {
                var batch = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
                {
                    using var response = await flooder.PostAsync($"v2/models/{model}/infer", StackFixture.Json(CreditRiskBody));
                    return response.StatusCode;
                }));
                statuses.AddRange(batch);
            }

            return statuses;
        });
        var steadyStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await steady.PostAsync($"v2/models/{model}/infer", StackFixture.Json(CreditRiskBody));
            steadyStatuses.Add(response.StatusCode);
            await Task.Delay(600);
        }

        var flooded = await flood;
        Assert.All(steadyStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Contains(HttpStatusCode.TooManyRequests, flooded);
        Assert.All(flooded, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));

        // The flooder's 429s grow the audit log by interval, not by request: each interval's first is audited one by one,
        // the rest are counted into the caller's rate-limit-refusals record (every 2 s in this stack), and none is lost.
        var refusals = flooded.Count(s => s == HttpStatusCode.TooManyRequests);
        var pseudonym = Pseudonym(flooderSubject);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        (int Audited, long Summarised, int Summaries) seen;
        do
        {
            var mine = (await fixture.AuditLinesAsync())
                .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
                .Where(r => r.GetProperty("caller").GetString() == pseudonym)
                .ToList();
            var summaries = mine
                .Where(r => r.GetProperty("operation").GetString() == "security")
                .Select(r => r.GetProperty("security"))
                .Where(e => e.GetProperty("kind").GetString() == SecurityEventKinds.RateLimitRefusals)
                .ToList();
            seen = (
                mine.Count(r => r.GetProperty("outcome").GetString() == "rate_limited"),
                summaries.Sum(e => long.Parse(e.GetProperty("evidence").GetProperty("limit").GetString()!, CultureInfo.InvariantCulture)),
                summaries.Count);
            if (seen.Audited + seen.Summarised >= refusals)
            {
                break;
            }

            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(refusals, seen.Audited + seen.Summarised);
        Assert.True(seen.Audited < refusals / 2, $"{seen.Audited} of {refusals} refusals audited one by one");
        Assert.InRange(seen.Summaries, 1, seen.Audited);
    }

    [StackFact]
    public async Task QuarantinedVersion_NoLongerServed_PreviousServesLatest_UntilLifted()
    {
        var model = "quarantine-" + Guid.NewGuid().ToString("N")[..8];
        await PublishAsync(model, "1");
        await PublishAsync(model, "2");
        Assert.Equal("2", await ServedVersionAsync(model, null));

        var quarantine = await Ssctl.RunAsync(fixture, ["contain", "quarantine", model, "2", "--connection-string", fixture.Stack.Azurite.ConnectionString]);
        Assert.True(quarantine.ExitCode == 0, quarantine.Output);

        var deadline = DateTime.UtcNow + Propagation;
        string? latest;
        while ((latest = await ServedVersionAsync(model, null)) != "1" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal("1", latest);
        using (var named = await fixture.Gateway.PostAsync($"v2/models/{model}/versions/2/infer", StackFixture.Json(CreditRiskBody)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, named.StatusCode);
        }

        var lift = await Ssctl.RunAsync(fixture, ["contain", "lift", "quarantine", model, "2", "--connection-string", fixture.Stack.Azurite.ConnectionString]);
        Assert.True(lift.ExitCode == 0, lift.Output);
        deadline = DateTime.UtcNow + Propagation;
        while ((latest = await ServedVersionAsync(model, null)) != "2" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal("2", latest);
    }

    [StackFact]
    public async Task ThrottleSetBySsctl_CallerGets429AboveItsRate_OthersDoNot()
    {
        var subject = "throttled-" + Guid.NewGuid().ToString("N")[..8];
        var throttle = await Ssctl.RunAsync(fixture, ["contain", "throttle", "--subject", subject, "--per-minute", "2", "--for", "00:10:00", "--state", fixture.State.Directory, "--connection-string", fixture.Stack.Azurite.ConnectionString]);
        Assert.True(throttle.ExitCode == 0, throttle.Output);
        using var client = Client(fixture.Stack.GatewayBaseUrl, subject);

        // Wait until the gateway has read the throttle: then at most 2 requests a minute pass.
        var deadline = DateTime.UtcNow + Propagation;
        var statuses = new List<HttpStatusCode>();
        while (!statuses.Contains(HttpStatusCode.TooManyRequests) && DateTime.UtcNow < deadline)
        {
            using var response = await client.PostAsync("v2/models/credit-risk/infer", StackFixture.Json(CreditRiskBody));
            statuses.Add(response.StatusCode);
            await Task.Delay(100);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
        using var other = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", StackFixture.Json(CreditRiskBody));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    private const string CreditRiskBody = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";

    private async Task<(HttpStatusCode Status, string Body)> EventuallyAsync(HttpClient client, HttpStatusCode wanted, float[] row)
    {
        var deadline = DateTime.UtcNow + Propagation;
        while (true)
        {
            using var response = await client.PostAsync("v2/models/digits/infer", StackFixture.Json(Request([row])));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == wanted || DateTime.UtcNow > deadline)
            {
                return (response.StatusCode, body);
            }

            await Task.Delay(250);
        }
    }

    [StackFact]
    public async Task Revocation_TokenCallerAndSigner_RefusedOnASecondInstanceWithoutRestart_ThenLifted()
    {
        var second = await SecondGateway.StartAsync(fixture);
        var model = "revoked-" + Guid.NewGuid().ToString("N")[..8];
        await PublishAsync(model, "1");
        var subject = "revoked-" + Guid.NewGuid().ToString("N")[..8];
        var stolen = fixture.MintCallerToken(subject);
        var other = fixture.MintCallerToken(subject);
        var connection = fixture.Stack.Azurite.ConnectionString;
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(second.GatewayBaseUrl, model, stolen));

        // One token, by its jti: refused (401, the body of any refused token) on both instances; the caller's other token is not.
        var revokeToken = await Ssctl.RunAsync(fixture, ["contain", "revoke-token", new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(stolen).Id, "--connection-string", connection]);
        Assert.True(revokeToken.ExitCode == 0, revokeToken.Output);
        foreach (var gateway in new[] { second.GatewayBaseUrl, fixture.Stack.GatewayBaseUrl })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await EventuallyStatusAsync(gateway, model, stolen, HttpStatusCode.Unauthorized));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, model, other));
        }

        // The caller: every token issued up to now refused; one issued after the revocation (iat is whole seconds) accepted.
        var revokeCaller = await Ssctl.RunAsync(fixture, ["contain", "revoke-caller", "--subject", subject, "--state", fixture.State.Directory, "--connection-string", connection]);
        Assert.True(revokeCaller.ExitCode == 0, revokeCaller.Output);
        Assert.Equal(HttpStatusCode.Unauthorized, await EventuallyStatusAsync(second.GatewayBaseUrl, model, other, HttpStatusCode.Unauthorized));
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(second.GatewayBaseUrl, model, fixture.MintCallerToken(subject)));

        // The model signing key: no version it signed serves, on either instance, until lifted.
        using var signingKey = SigningKeys.ImportPem(await File.ReadAllTextAsync(fixture.State.ModelSigningPublicKey));
        var keyId = KeyIds.Compute(signingKey);
        var fresh = fixture.MintCallerToken("signer-" + Guid.NewGuid().ToString("N")[..8]);
        var revokeSigner = await Ssctl.RunAsync(fixture, ["contain", "revoke-signer", keyId, "--connection-string", connection]);
        Assert.True(revokeSigner.ExitCode == 0, revokeSigner.Output);
        try
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await EventuallyStatusAsync(second.GatewayBaseUrl, model, fresh, HttpStatusCode.ServiceUnavailable));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await EventuallyStatusAsync(fixture.Stack.GatewayBaseUrl, model, fresh, HttpStatusCode.ServiceUnavailable));
        }
        finally
        {
            var lift = await Ssctl.RunAsync(fixture, ["contain", "lift", "revoked-signer", keyId, "--connection-string", connection]);
            Assert.True(lift.ExitCode == 0, lift.Output);
        }

        Assert.Equal(HttpStatusCode.OK, await EventuallyStatusAsync(fixture.Stack.GatewayBaseUrl, model, fresh, HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.OK, await EventuallyStatusAsync(second.GatewayBaseUrl, model, fresh, HttpStatusCode.OK));

        // The refusals of genuine but revoked tokens are audited, at the contain stage, with the caller's pseudonym.
        var records = (await fixture.AuditLinesAsync())
            .Select(l => AuditRecord.TryParse(Encoding.ASCII.GetBytes(l), out var record, out _) ? record : null)
            .Where(r => r is not null && r.Caller == Pseudonym(subject) && r.Outcome == "unauthenticated")
            .ToList();
        Assert.NotEmpty(records);
        Assert.All(records, r => Assert.Equal("refused:unauthenticated:revoked", r!.Stages["contain"]));
    }

    private static async Task<HttpStatusCode> StatusAsync(Uri gateway, string model, string token)
    {
        using var client = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.PostAsync($"v2/models/{model}/infer", StackFixture.Json(CreditRiskBody));
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> EventuallyStatusAsync(Uri gateway, string model, string token, HttpStatusCode wanted)
    {
        var deadline = DateTime.UtcNow + Propagation;
        while (true)
        {
            var status = await StatusAsync(gateway, model, token);
            if (status == wanted || DateTime.UtcNow > deadline)
            {
                return status;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>
    /// The 403 body every access refusal decided before the model is looked up gets: here a token for the admin plane's
    /// audience (a sibling audience). A caller without the model's role gets the unknown-model 404 instead
    /// (HideModelExistence).
    /// </summary>
    private async Task<string> DeniedBodyAsync()
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Bearer", fixture.Stack.Issuer.MintAdmin("denied-" + Guid.NewGuid().ToString("N")[..8]));
        using var response = await client.PostAsync("v2/models/credit-risk/infer", StackFixture.Json(CreditRiskBody));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<string?> ServedVersionAsync(string model, string? version)
    {
        using var response = await fixture.Gateway.PostAsync(
            version is null ? $"v2/models/{model}/infer" : $"v2/models/{model}/versions/{version}/infer",
            StackFixture.Json(CreditRiskBody));
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return null;
        }

        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("model_version").GetString();
    }

    private async Task PublishAsync(string model, string version, byte[]? policy = null)
    {
        using var signer = SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(fixture.State.ModelSigningKey));
        using var trusted = TrustedSigners.FromPem([await File.ReadAllTextAsync(fixture.State.ModelSigningPublicKey)]);
        var store = new ModelStore(fixture.Blobs.GetBlobContainerClient("models"), trusted, new ModelStoreOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger<ModelStore>.Instance);
        var onnx = global::Onnx.ModelProto.Parser.ParseFrom(SampleModels.BuildModel(CreditRiskSample.Name));
        onnx.DocString = "containment test " + model + " " + version;
        await store.PublishAsync(ModelPackager.Pack(model, version, onnx.ToByteArray(), policy ?? SampleModels.GetPolicy(CreditRiskSample.Name), signer, DateTimeOffset.UtcNow));
    }

    private HttpClient Client(Uri gateway, string subject)
    {
        var client = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.MintCallerToken(subject));
        return client;
    }

    private string Pseudonym(string subject) =>
        new CallerPseudonymizer(Convert.FromBase64String(File.ReadAllText(fixture.State.AuditPseudonymKey).Trim())).Pseudonymize(subject);

    private async Task<List<AuditRecord>> SecurityRecordsAsync(string kind, string caller) =>
        (await fixture.AuditLinesAsync())
            .Select(l => AuditRecord.TryParse(Encoding.ASCII.GetBytes(l), out var record, out _) ? record : null)
            .Where(r => r is not null && r.Operation == AuditEvent.SecurityOperation && r.Security?.Kind == kind && r.Caller == caller)
            .Select(r => r!)
            .ToList();

    /// <summary>Held-out digits the sample's enforcing OOD screen passes (it refuses about 1 in 450).</summary>
    private static List<float[]> ScreenedDigits()
    {
        var profile = InputProfile.Parse(SampleModels.BuildProfile(DigitsSample.Name));
        var screen = new MahalanobisScreen(profile);
        return DigitsData.Load().Test.Rows().Where(r => screen.MaxDistance(r) <= profile.Threshold).ToList();
    }

    private static string Request(IEnumerable<float[]> rows)
    {
        var list = rows.ToList();
        var data = string.Join(',', list.SelectMany(r => r).Select(p => p.ToString("R", CultureInfo.InvariantCulture)));
        return $$"""{"inputs":[{"name":"pixels","shape":[{{list.Count}},64],"datatype":"FP32","data":[{{data}}]}]}""";
    }
}
