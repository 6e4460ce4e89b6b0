using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Azure;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Integration.Tests.Defenses;

/// <summary>
/// The local stack's tripwires (<see cref="LocalCanaries"/>) over real processes, judged by the audit trail: a request
/// that trips one leaves exactly one security record (operation <c>security</c>) for its caller, and the caller gets
/// what it would have got without the tripwire. Each test has a caller of its own: the default action blocks it.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class CanaryTests(StackFixture fixture)
{
    private static readonly string NotesBody = $$"""{"inputs":[{"name":"customer_id","shape":[1],"datatype":"INT64","data":[{{CustomerNotesSample.CanaryCustomerId}}]}]}""";

    [StackFact]
    public async Task CanaryRecord_Released_ExactlyOneCanaryOutputRecordForTheCaller()
    {
        var subject = "canary-reader-" + Guid.NewGuid().ToString("N")[..8];
        using var client = Client(subject);

        using var response = await client.PostAsync("v2/models/customer-notes/infer", StackFixture.Json(NotesBody));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + fixture.LogTail());
        Assert.Contains(CustomerNotesSample.CanaryToken, body, StringComparison.Ordinal);
        var lines = await AuditLinesAsync();
        var security = Assert.Single(SecurityRecords(lines, SecurityEventKinds.CanaryOutput, Pseudonym(subject)));
        Assert.Equal(CustomerNotesSample.Name, security.Model);
        var requestId = response.Headers.GetValues("x-request-id").Single();
        Assert.Equal(AuditEvent.Released, Records(lines).Single(r => r.RequestId == requestId).Outcome);
        Assert.DoesNotContain(lines, l => l.Contains(CustomerNotesSample.CanaryToken, StringComparison.Ordinal));
    }

    [StackFact]
    public async Task OrdinaryRecord_NoSecurityRecord()
    {
        var subject = "ordinary-reader-" + Guid.NewGuid().ToString("N")[..8];
        using var client = Client(subject);

        using var response = await client.PostAsync("v2/models/customer-notes/infer", StackFixture.Json(NotesBody.Replace("[9]", "[8]", StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var pseudonym = Pseudonym(subject);
        Assert.DoesNotContain(Records(await AuditLinesAsync()), r => r.Operation == "security" && r.Caller == pseudonym);
    }

    [StackFact]
    public async Task HoneyModel_AnsweredAsAnUnknownModel_ExactlyOneHoneyModelRecord()
    {
        var subject = "honey-prober-" + Guid.NewGuid().ToString("N")[..8];
        using var client = Client(subject);

        using var unknown = await client.PostAsync("v2/models/no-such-model/infer", StackFixture.Json(NotesBody));
        using var honey = await client.PostAsync($"v2/models/{LocalCanaries.HoneyModel}/infer", StackFixture.Json(NotesBody));

        Assert.Equal(HttpStatusCode.NotFound, honey.StatusCode);
        Assert.Equal((unknown.StatusCode, await unknown.Content.ReadAsStringAsync()), (honey.StatusCode, await honey.Content.ReadAsStringAsync()));
        var security = Assert.Single(SecurityRecords(await AuditLinesAsync(), SecurityEventKinds.HoneyModel, Pseudonym(subject)));
        Assert.Equal(LocalCanaries.HoneyModel, security.Model);
    }

    [StackFact]
    public async Task HoneyCaller_AnsweredAsAnUnknownModel_OneMoreHoneyCallerRecord()
    {
        var pseudonym = Pseudonym(LocalCanaries.HoneySubject);
        var before = SecurityRecords(await AuditLinesAsync(), SecurityEventKinds.HoneyCaller, pseudonym).Count;
        using var client = Client(LocalCanaries.HoneySubject);

        using var response = await client.GetAsync("v2/models/customer-notes");

        // What a caller without the model's role gets (HideModelExistence), so the honey subject cannot tell.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(before + 1, SecurityRecords(await AuditLinesAsync(), SecurityEventKinds.HoneyCaller, pseudonym).Count);
    }

    // Every line of the audit trail; none before the gateway has written its first record.
    private async Task<List<string>> AuditLinesAsync()
    {
        try
        {
            return await fixture.AuditLinesAsync();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }
    }

    private HttpClient Client(string subject)
    {
        var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.MintCallerToken(subject));
        return client;
    }

    private string Pseudonym(string subject) =>
        new CallerPseudonymizer(Convert.FromBase64String(File.ReadAllText(fixture.State.AuditPseudonymKey).Trim())).Pseudonymize(subject);

    private static List<AuditRecord> Records(IEnumerable<string> lines) =>
        lines.Select(l => AuditRecord.TryParse(Encoding.UTF8.GetBytes(l), out var record, out var error) ? record! : throw new InvalidOperationException(error)).ToList();

    // Security events are audit records of operation "security" (record format 4).
    private static List<AuditRecord> SecurityRecords(IEnumerable<string> lines, string kind, string caller) =>
        Records(lines).Where(r => r.Operation == AuditEvent.SecurityOperation && r.Security?.Kind == kind && r.Caller == caller).ToList();
}
