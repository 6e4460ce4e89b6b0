using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Admin;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Hosting.Admin;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Local;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Hosting.Tests.Admin;

/// <summary>
/// The admin plane in-process, beside the gateway on the same storage: who may use it (the admin audience and role,
/// and never on the data plane), each action's effect on the gateway, and the audit record of every action.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class AdminEdgeTests(InProcessStack stack)
{
    private const string CreditRisk = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [Fact]
    public async Task AdminRoute_NoToken_401WithTheGatewaysNoTokenBody()
    {
        using var admin = stack.AdminClient();
        admin.DefaultRequestHeaders.Authorization = null;
        using var gateway = stack.Client(subject: null);

        using var refused = await admin.GetAsync("manage/models");
        using var gatewayRefused = await gateway.GetAsync("v2/models/credit-risk");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(await gatewayRefused.Content.ReadAsStringAsync(), await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AdminRoute_DataPlaneToken_403EvenWithTheAdminRole_Audited_NothingDone()
    {
        // A data-plane token is a genuine token of this deployment for the gateway's audience, the admin app's sibling:
        // it authenticates, so the refusal is audited under the caller, but it grants nothing here (403), whatever roles
        // it carries. Its second refusal in the interval is counted into the caller's summary (below).
        var subject = "data-caller-" + Guid.NewGuid().ToString("N")[..6];
        foreach (var token in new[] { stack.CallerToken(subject), stack.CallerToken(subject, LocalIssuer.AdminRole) })
        {
            using var admin = stack.AdminClient(token);

            using var response = await admin.PostAsync("manage/blocks", Json("""{"pseudonym":"00000000000000000000000000000000"}"""));

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("may not use the admin plane", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var records = (await AdminRecordsAsync()).Where(r => r.Caller == stack.Pseudonym(subject)).ToList();
        Assert.InRange(records.Count, 1, 2);
        Assert.All(records, r => Assert.Equal("refused:forbidden", r.Outcome));
    }

    /// <summary>
    /// Anyone holding a token of this deployment reaches the admin gate: a caller repeating a refused request adds one
    /// record per interval and one summary, not one record per request (before 2026-12-08 each had its record), and every
    /// refusal answers alike. A revoked token is counted apart.
    /// </summary>
    [Fact]
    public async Task AdminRoute_RefusedOverAndOver_FirstAuditedOneByOne_TheRestInOneSummary()
    {
        var subject = "admin-flooder-" + Guid.NewGuid().ToString("N")[..6];
        var pseudonym = stack.Pseudonym(subject);
        var summaries = stack.AdminServices.GetServices<IHostedService>().OfType<AdminRefusalSummaries>().Single();
        using var admin = stack.AdminClient(stack.Issuer.MintAdmin(subject, roles: ["note-reader"]));
        var ids = new List<string>();
        string? first = null;
        for (var i = 0; i < 25; i++)
        {
            using var response = await admin.GetAsync("manage/models");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(first ??= body, body);
            ids.Add(response.Headers.GetValues("x-request-id").Single());
        }

        await summaries.WriteAsync(default);

        var records = (await AdminRecordsAsync()).Where(r => r.Caller == pseudonym).ToList();
        var summarised = (await stack.AuditLinesAsync())
            .Select(line => AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record, out _) ? record : null)
            .Where(r => r is { Operation: AuditEvent.SecurityOperation, Security.Kind: SecurityEventKinds.AdminRefusals } && r.Caller == pseudonym)
            .ToList();

        // The first has its record; the summary service's own timer (1 minute) may have ended an interval during the
        // flood, and each interval's first refusal is audited again, so allow one more.
        Assert.Contains(ids[0], records.Select(r => r.RequestId));
        Assert.InRange(records.Count, 1, 2);
        Assert.All(records, r => Assert.Equal("refused:forbidden", r.Outcome));
        Assert.NotEmpty(summarised);
        Assert.Equal(ids.Count, records.Count + summarised.Sum(r => long.Parse(r!.Security!.Evidence![AdminRefusalSummaries.Denied], CultureInfo.InvariantCulture)));

        // A new interval: the caller's next refusal is audited one by one again.
        using var next = await admin.GetAsync("manage/models");
        var nextId = next.Headers.GetValues("x-request-id").Single();
        Assert.Contains(nextId, (await AdminRecordsAsync()).Select(r => r.RequestId));
    }

    [Fact]
    public async Task AdminRoute_AdminAudienceWithoutTheRole_403Audited()
    {
        var subject = "not-an-admin-" + Guid.NewGuid().ToString("N")[..6];
        using var admin = stack.AdminClient(stack.Issuer.MintAdmin(subject, roles: ["note-reader"]));

        using var response = await admin.GetAsync("manage/models");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("may not use the admin plane", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var record = Assert.Single(await AdminRecordsAsync(), r => r.Caller == stack.Pseudonym(subject));
        Assert.Equal((AdminActions.ListModels, "refused:forbidden"), (record.Security!.Action, record.Outcome));
    }

    [Fact]
    public async Task Infer_AdminToken_403_AdminAudienceOrAdminRole()
    {
        // An admin token is for the admin audience, the gateway's sibling: a known token, refused 403 with the body of any
        // access refusal, and audited at the authenticate stage.
        var subject = "some-admin-" + Guid.NewGuid().ToString("N")[..6];
        using var withAdminToken = stack.Client(subject: null);
        withAdminToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", stack.Issuer.MintAdmin(subject));
        using var siblingAudience = await withAdminToken.PostAsync("v2/models/credit-risk/infer", Json(CreditRisk));
        Assert.Equal(HttpStatusCode.Forbidden, siblingAudience.StatusCode);
        Assert.Contains("may not use this model", await siblingAudience.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(await stack.AuditLinesAsync(), l => l.Contains(stack.Pseudonym(subject), StringComparison.Ordinal) && l.Contains("refused:forbidden:audience", StringComparison.Ordinal));

        // A token the gateway accepts but carrying the admin role is refused on the data plane (by authorize, so answered as
        // an unknown model: HideModelExistence),
        // although credit-risk's policy admits every caller.
        using var withAdminRole = stack.Client("some-admin", LocalIssuer.AdminRole);
        using var adminRole = await withAdminRole.PostAsync("v2/models/credit-risk/infer", Json(CreditRisk));
        using var plain = stack.Client("some-caller");
        using var served = await plain.PostAsync("v2/models/credit-risk/infer", Json(CreditRisk));

        Assert.Equal(HttpStatusCode.NotFound, adminRole.StatusCode);
        Assert.Contains("model or version not found", await adminRole.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task ListModels_EveryVersionWithItsState()
    {
        using var admin = stack.AdminClient();

        using var response = await admin.GetAsync("manage/models");

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var body = JsonDocument.Parse(text);
        var creditRisk = body.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "credit-risk");
        var version = Assert.Single(creditRisk.GetProperty("versions").EnumerateArray());
        Assert.Equal(("1", ModelVersionStates.Serving), (version.GetProperty("version").GetString(), version.GetProperty("state").GetString()));
        Assert.Equal(KeyIds.Compute(TestPackages.Signer), version.GetProperty("signerKeyId").GetString());
        Assert.NotNull(response.Headers.GetValues("x-request-id").Single());
    }

    /// <summary>
    /// The publish answer gives the version's state as the model list does. Found in review 2026-12-07: a version
    /// quarantined ahead of its publish was answered "serving", and never served.
    /// </summary>
    [Fact]
    public async Task Publish_VersionQuarantinedAhead_AnswerSaysQuarantined_AsTheList()
    {
        var name = "admin-ahead-" + Guid.NewGuid().ToString("N")[..6];
        using var admin = stack.AdminClient();
        using (var quarantined = await admin.PostAsync($"manage/models/{name}/versions/1/quarantine", null))
        {
            Assert.True(quarantined.IsSuccessStatusCode, quarantined.StatusCode.ToString());
        }

        using var response = await admin.PostAsync("manage/models", Zip(TestPackages.CreditRisk(name, "1")));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        Assert.Equal("quarantined", JsonDocument.Parse(text).RootElement.GetProperty("state").GetString());
        using var list = await admin.GetAsync("manage/models");
        using var listed = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        var model = listed.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);
        Assert.Equal("quarantined", model.GetProperty("versions")[0].GetProperty("state").GetString());
    }

    /// <summary>
    /// What is stored for a version's file does not verify (a blob of the wrong size planted under its digest): the
    /// store is write-once, so the answer is a refusal that says so, not 503 "try again later" for ever (found in
    /// review 2026-12-07).
    /// </summary>
    [Fact]
    public async Task Publish_StoredContentDoesNotVerify_400SayingSo_EveryTime_NotTryAgain()
    {
        var name = "admin-corrupt-" + Guid.NewGuid().ToString("N")[..6];
        var package = TestPackages.CreditRiskOwnBytes(name, "1", name);
        var model = package.Files.Single(f => f.Name == "model.onnx");
        var container = stack.GatewayServices.GetRequiredService<ModelStore>().Container;
        await container.GetBlobClient(ModelStoreLayout.ContentPath(model.Pin.Sha256)).UploadAsync(BinaryData.FromString("not the model"));
        using var admin = stack.AdminClient();

        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var response = await admin.PostAsync("manage/models", Zip(package));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            Assert.Contains("cannot be replaced", text, StringComparison.Ordinal);
            Assert.Null(response.Headers.RetryAfter);
        }
    }

    [Fact]
    public async Task Publish_SignedPackage_StoredAndServedByTheGateway_BothRecordsAudited()
    {
        var name = "admin-published-" + Guid.NewGuid().ToString("N")[..6];
        using var admin = stack.AdminClient();

        using var response = await admin.PostAsync("manage/models", Zip(TestPackages.CreditRisk(name, "1")));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        Assert.Equal("serving", JsonDocument.Parse(text).RootElement.GetProperty("state").GetString());
        using var client = stack.Client("publish-checker");
        using var inferred = await client.PostAsync($"v2/models/{name}/versions/1/infer", Json(CreditRisk));
        Assert.Equal(HttpStatusCode.OK, inferred.StatusCode);
        var records = (await AdminRecordsAsync()).Where(r => r.Model == name).ToList();
        Assert.Equal([AdminOutcomes.Requested, AdminOutcomes.Done], records.OrderBy(r => r.Seq).Select(r => r.Outcome));
        Assert.All(records, r => Assert.Equal((AdminActions.Publish, stack.Pseudonym("admin-tests")), (r.Security!.Action, r.Caller)));
    }

    [Fact]
    public async Task Publish_RetryAfterAnInterruptedPublish_AnswerAndAuditNameTheManifestStored()
    {
        var name = "admin-retried-" + Guid.NewGuid().ToString("N")[..6];
        using var admin = stack.AdminClient();
        var first = TestPackages.CreditRisk(name, "1");
        using (var published = await admin.PostAsync("manage/models", Zip(first)))
        {
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        }

        // What a publish that stopped after its signature leaves; the retry is signed anew, at another time.
        var container = stack.GatewayServices.GetRequiredService<ModelStore>().Container;
        await container.GetBlobClient(ModelStoreLayout.ManifestPath(name, "1")).DeleteAsync();
        var retry = ModelPackager.Pack(name, "1", TestPackages.CreditRiskModel, SampleModels.GetPolicy(CreditRiskSample.Name), TestPackages.Signer, TestPackages.Created.AddMinutes(1));
        Assert.NotEqual(first.ManifestDigest, retry.ManifestDigest);

        using var response = await admin.PostAsync("manage/models", Zip(retry));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(first.ManifestDigest, body.RootElement.GetProperty("manifestDigest").GetString());
        var done = (await AdminRecordsAsync()).Where(r => r.Model == name && r.Outcome == AdminOutcomes.Done).OrderBy(r => r.Seq).Last();
        Assert.Equal(first.ManifestDigest, done.ManifestDigest);
    }

    [Theory]
    [InlineData("model")]
    [InlineData("policy")]
    [InlineData("signer")]
    [InlineData("manifest")]
    [InlineData("extra-file")]
    public async Task Publish_TamperedPackage_RefusedAndNothingStored(string tamper)
    {
        var name = "admin-tampered-" + Guid.NewGuid().ToString("N")[..6];
        var package = TestPackages.CreditRisk(name, "1", signer: tamper == "signer" ? SigningKeys.CreateP256() : null);
        var zip = Tampered(package, tamper);
        using var admin = stack.AdminClient();

        using var response = await admin.PostAsync("manage/models", new ByteArrayContent(zip) { Headers = { ContentType = new MediaTypeHeaderValue("application/zip") } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("failed verification", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var models = stack.GatewayServices.GetService(typeof(ModelStore)) as ModelStore;
        Assert.Empty(await models!.ListVersionsAsync(name));
        await foreach (var blob in models.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, ModelStoreLayout.ContentPrefix, default))
        {
            // Nothing of the tampered package was written: its model bytes are the credit-risk sample's, already stored
            // (content-addressed), so only a file unique to this package would show; the manifest's is.
            Assert.NotEqual(ModelStoreLayout.ContentPath(package.ManifestDigest), blob.Name);
        }
    }

    [Fact]
    public async Task Publish_NotAZipOrTooLarge_Refused()
    {
        using var admin = stack.AdminClient();

        using var notZip = await admin.PostAsync("manage/models", new ByteArrayContent(Encoding.UTF8.GetBytes("not a zip")) { Headers = { ContentType = new MediaTypeHeaderValue("application/zip") } });
        using var json = await admin.PostAsync("manage/models", Json("{}"));

        Assert.Equal(HttpStatusCode.BadRequest, notZip.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
    }

    [Fact]
    public async Task Quarantine_GatewayStopsServingTheVersion_RestoreServesItAgain()
    {
        var name = "admin-quarantined-" + Guid.NewGuid().ToString("N")[..6];
        using var admin = stack.AdminClient();
        using var published = await admin.PostAsync("manage/models", Zip(TestPackages.CreditRisk(name, "1")));
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        using var client = stack.Client("quarantine-checker");
        // Served once first, so the gateway has verified the version and knows its roles: a version quarantined before
        // this instance ever verified it is answered to every caller as an unknown one (404, ResolveModel's
        // access_unproven), whichever of the refresh and the first request comes first.
        using (var served = await client.PostAsync($"v2/models/{name}/versions/1/infer", Json(CreditRisk)))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using var quarantined = await admin.PostAsync($"manage/models/{name}/versions/1/quarantine", null);
        Assert.Equal(HttpStatusCode.OK, quarantined.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await EventuallyAsync(client, $"v2/models/{name}/versions/1/infer", HttpStatusCode.ServiceUnavailable));
        using var listed = await admin.GetAsync("manage/models");
        Assert.Contains($"\"name\":\"{name}\",\"versions\":[{{\"version\":\"1\",\"state\":\"quarantined\"", await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var restored = await admin.DeleteAsync($"manage/models/{name}/versions/1/quarantine");
        Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await EventuallyAsync(client, $"v2/models/{name}/versions/1/infer", HttpStatusCode.OK));

        var records = (await AdminRecordsAsync()).Where(r => r.Model == name && r.Security!.Action != AdminActions.Publish).OrderBy(r => r.Seq).ToList();
        Assert.Equal(
            [(AdminActions.Quarantine, AdminOutcomes.Requested), (AdminActions.Quarantine, AdminOutcomes.Done), (AdminActions.Restore, AdminOutcomes.Requested), (AdminActions.Restore, AdminOutcomes.Done)],
            records.Select(r => (r.Security!.Action, r.Outcome)));
    }

    [Fact]
    public async Task Block_BySubject_GatewayRefusesThatCallerOnly_UnblockByPseudonymLiftsIt()
    {
        var subject = "blocked-" + Guid.NewGuid().ToString("N")[..6];
        using var admin = stack.AdminClient();
        using var blocked = stack.Client(subject);
        using var other = stack.Client("unblocked-" + Guid.NewGuid().ToString("N")[..6]);

        using var response = await admin.PostAsync("manage/blocks", Json($$"""{"subject":"{{subject}}","duration":"01:00:00"}"""));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var pseudonym = stack.Pseudonym(subject);
        Assert.Contains(pseudonym, text, StringComparison.Ordinal);
        Assert.DoesNotContain(subject, text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, await EventuallyAsync(blocked, "v2/models/credit-risk/infer", HttpStatusCode.Forbidden));
        using (var served = await other.PostAsync("v2/models/credit-risk/infer", Json(CreditRisk)))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using var unblocked = await admin.DeleteAsync($"manage/blocks/{pseudonym}");
        Assert.Equal(HttpStatusCode.OK, unblocked.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await EventuallyAsync(blocked, "v2/models/credit-risk/infer", HttpStatusCode.OK));
        var records = (await AdminRecordsAsync()).Where(r => r.Security!.Evidence.TryGetValue("caller", out var c) && c == pseudonym).ToList();
        Assert.Equal(4, records.Count);
        Assert.DoesNotContain(await stack.AuditLinesAsync(), line => line.Contains(subject, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"subject":"a","pseudonym":"00000000000000000000000000000000"}""")]
    [InlineData("""{"pseudonym":"not-a-pseudonym"}""")]
    [InlineData("""{"subject":"a","duration":"forever"}""")]
    [InlineData("""{"subject":"a","extra":1}""")]
    [InlineData("""[]""")]
    [InlineData("""{"sub\udddd":"a"}""")] // half a surrogate pair in a name: listing the names threw (500)
    [InlineData("""{"subject":"a\ud800"}""")]
    public async Task Block_BadBody_400AndNothingSet(string body)
    {
        using var admin = stack.AdminClient();

        using var response = await admin.PostAsync("manage/blocks", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SecurityEventsAndCheckpoints_ReadableByAdmins_TheReadsThemselvesAudited()
    {
        using var admin = stack.AdminClient();
        using var warmUp = await admin.GetAsync("manage/models");

        using var events = await admin.GetAsync("manage/security-events?limit=50");
        using var checkpoints = await admin.GetAsync("manage/audit/checkpoints");

        using var eventBody = JsonDocument.Parse(await events.Content.ReadAsStringAsync());
        Assert.Contains(eventBody.RootElement.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == AdminActions.Kind && e.GetProperty("action").GetString() == AdminActions.ListModels);
        using var checkpointBody = JsonDocument.Parse(await checkpoints.Content.ReadAsStringAsync());
        var heads = checkpointBody.RootElement.GetProperty("checkpoints").EnumerateArray().ToList();
        Assert.NotEmpty(heads);
        Assert.All(heads, h => Assert.True(h.GetProperty("signatureValid").GetBoolean()));
        Assert.Contains(await AdminRecordsAsync(), r => r.Security!.Action == AdminActions.ReadSecurityEvents);

        using var bad = await admin.GetAsync("manage/security-events?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task EveryAdminRecord_InAChainTheVerifierAccepts()
    {
        using var admin = stack.AdminClient();
        using var response = await admin.GetAsync("manage/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The log is live (the gateway writes to it too): a chain's newest checkpoint may still be on its way.
        var report = await AuditVerifier.VerifyAsync(stack.Audit, [stack.AuditKey], CancellationToken.None);
        for (var attempt = 0; attempt < 50 && !report.Chains.All(c => c.Ok); attempt++)
        {
            await Task.Delay(200);
            report = await AuditVerifier.VerifyAsync(stack.Audit, [stack.AuditKey], CancellationToken.None);
        }

        Assert.True(report.Chains.All(c => c.Ok), string.Join("; ", report.Chains.Where(c => !c.Ok).Select(c => c.ToString())));
        Assert.Contains(await AdminRecordsAsync(), r => r.RequestId == response.Headers.GetValues("x-request-id").Single());
    }

    private async Task<List<AuditRecord>> AdminRecordsAsync() =>
        (await stack.AuditLinesAsync())
            .Select(line => AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record, out _) ? record : null)
            .Where(r => r is { Operation: AuditEvent.SecurityOperation, Security.Kind: AdminActions.Kind })
            .Select(r => r!)
            .ToList();

    private static async Task<HttpStatusCode> EventuallyAsync(HttpClient client, string path, HttpStatusCode expected)
    {
        var status = HttpStatusCode.InternalServerError;
        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline;)
        {
            using var response = await client.PostAsync(path, Json(CreditRisk));
            status = response.StatusCode;
            if (status == expected)
            {
                break;
            }

            await Task.Delay(100);
        }

        return status;
    }

    private static ByteArrayContent Zip(ModelPackage package) =>
        new(PackageArchive.Write(package)) { Headers = { ContentType = new MediaTypeHeaderValue("application/zip") } };

    private static byte[] Tampered(ModelPackage package, string tamper)
    {
        var files = package.Files.ToDictionary(f => f.Name, f => f.Content.ToArray());
        var manifest = package.ManifestJson.ToArray();
        switch (tamper)
        {
            case "model":
                files[ModelStoreLayout.ModelFile][^1] ^= 0x01;
                break;
            case "policy":
                files[ModelStoreLayout.PolicyFile] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(files[ModelStoreLayout.PolicyFile]).Replace("{", "{ ", StringComparison.Ordinal));
                break;
            case "manifest":
                manifest = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(manifest).Replace("\"1\"", "\"2\"", StringComparison.Ordinal));
                break;
            case "extra-file":
                files[ModelStoreLayout.ProfileFile] = Encoding.UTF8.GetBytes("{}");
                break;
        }

        using var buffer = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files.Append(KeyValuePair.Create(ModelStoreLayout.ManifestFile, manifest)).Append(KeyValuePair.Create(ModelStoreLayout.SignatureFile, Encoding.ASCII.GetBytes(package.Signature))))
            {
                using var entry = zip.CreateEntry(name).Open();
                entry.Write(content);
            }
        }

        return buffer.ToArray();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
