using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ServerlessServe.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerlessServe.Integration.Tests.Audit;

/// <summary>
/// The audit trail as the gateway writes it: one record per request with digests and no payloads, verified by the
/// real <c>ssctl audit verify</c>, which names the first modified, deleted or reordered record; and no response is
/// released when its record cannot be written.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class AuditTrailTests(StackFixture fixture, ITestOutputHelper output)
{
    private const string NotesBody = """{"inputs":[{"name":"customer_id","shape":[1],"datatype":"INT64","data":[0]}]}""";

    [StackFact]
    public async Task Infer_Served_OneRecordWithDigestsAndNoPayload()
    {
        string requestId;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/customer-notes/infer") { Content = StackFixture.Json(NotesBody) })
        {
            // A caller-chosen id is not what gets recorded: the gateway makes its own and returns it.
            request.Headers.Add("x-request-id", "caller-chosen-123-45-6789");
            using var response = await fixture.Gateway.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            requestId = response.Headers.GetValues("x-request-id").Single();
            Assert.Matches("^[0-9a-f]{32}$", requestId);
        }

        var lines = (await fixture.AuditLinesAsync()).Where(l => l.Contains(requestId, StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        output.WriteLine(line);
        using var record = JsonDocument.Parse(line);
        var root = record.RootElement;
        Assert.Equal("customer-notes", root.GetProperty("model").GetString());
        Assert.Equal("1", root.GetProperty("version").GetString());
        Assert.Equal("released", root.GetProperty("outcome").GetString());
        foreach (var digest in new[] { "manifestDigest", "inputSha256", "outputSha256", "prev", "hash" })
        {
            Assert.Matches("^[0-9a-f]{64}$", root.GetProperty(digest).GetString());
        }

        Assert.Equal(1, root.GetProperty("redactions").GetProperty("EMAIL").GetInt32());
        Assert.Equal("pass", root.GetProperty("stages").GetProperty("redact").GetString());
        Assert.DoesNotContain("integration-tests", line, StringComparison.Ordinal);
        Assert.DoesNotContain("example.com", line, StringComparison.Ordinal);
        Assert.DoesNotContain("jane", line, StringComparison.Ordinal);
        Assert.DoesNotContain("caller-chosen", string.Join('\n', await fixture.AuditLinesAsync()), StringComparison.Ordinal);
    }

    [StackFact]
    public async Task AuditVerify_UntouchedTrail_Passes()
    {
        await SendAsync(3);
        var result = await VerifyAsync("audit");
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("audit verify: OK", result.Output, StringComparison.Ordinal);
    }

    [StackTheory]
    [InlineData("modify", "Modified at seq 2")]
    [InlineData("delete", "Deleted at seq 2")]
    [InlineData("swap", "Reordered")]
    public async Task AuditVerify_TamperedRecord_FailsNamingIt(string tamper, string expected)
    {
        await SendAsync(3);
        var copy = fixture.Blobs.GetBlobContainerClient("audit-" + tamper + "-" + Guid.NewGuid().ToString("N")[..6]);
        await copy.CreateAsync();
        var source = fixture.Blobs.GetBlobContainerClient("audit");
        var firstSegment = true;
        await foreach (var item in source.GetBlobsAsync())
        {
            var content = (await source.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToArray();

            // The first segment of inference records (the admin app writes a chain of its own into the same container).
            if (firstSegment && item.Name.StartsWith("chains/", StringComparison.Ordinal)
                && Encoding.UTF8.GetString(content).Contains("\"operation\":\"infer\"", StringComparison.Ordinal))
            {
                content = Tamper(content, tamper);
                firstSegment = false;
            }

            var target = copy.GetAppendBlobClient(item.Name);
            await target.CreateAsync();
            await target.AppendBlockAsync(new MemoryStream(content));
        }

        var result = await VerifyAsync(copy.Name);
        output.WriteLine(result.Output);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("FAIL", result.Output, StringComparison.Ordinal);
        Assert.Contains(expected, result.Output, StringComparison.Ordinal);
    }

    [StackFact]
    public async Task Infer_AuditWriteFails_ResponseWithheldThenRecovers()
    {
        await SendAsync(1);
        var audit = fixture.Blobs.GetBlobContainerClient("audit");
        // The gateway's current segment: the newest one holding inference records (the admin app writes its own chain
        // into the same container).
        string? current = null;
        DateTimeOffset? newest = null;
        await foreach (var item in audit.GetBlobsAsync(BlobTraits.None, BlobStates.None, "chains/", default))
        {
            var text = (await audit.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToString();
            if (text.Contains("\"operation\":\"infer\"", StringComparison.Ordinal) && (newest is null || item.Properties.LastModified >= newest))
            {
                current = item.Name;
                newest = item.Properties.LastModified;
            }
        }

        var lease = audit.GetBlobClient(current).GetBlobLeaseClient();
        await lease.AcquireAsync(BlobLeaseClient.InfiniteLeaseDuration);
        try
        {
            using var refused = await fixture.Gateway.PostAsync("v2/models/customer-notes/infer", StackFixture.Json(NotesBody));
            var body = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("error", Assert.Single(JsonDocument.Parse(body).RootElement.EnumerateObject()).Name);
            Assert.DoesNotContain("[EMAIL]", body, StringComparison.Ordinal);
            Assert.DoesNotContain("Paperless", body, StringComparison.Ordinal);
        }
        finally
        {
            await lease.ReleaseAsync();
        }

        using var served = await fixture.Gateway.PostAsync("v2/models/customer-notes/infer", StackFixture.Json(NotesBody));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var result = await VerifyAsync("audit");
        Assert.True(result.ExitCode == 0, result.Output);
    }

    private async Task SendAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await fixture.Gateway.PostAsync("v2/models/customer-notes/infer", StackFixture.Json(NotesBody));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private Task<Ssctl.Result> VerifyAsync(string container) =>
        Ssctl.RunAsync(fixture, "audit", "verify", "--connection-string", fixture.Stack.Azurite.ConnectionString, "--state", fixture.State.Directory, "--container", container);

    private static byte[] Tamper(byte[] content, string how)
    {
        var lines = Encoding.UTF8.GetString(content).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.True(lines.Count >= 3, "the chain has at least three records");
        switch (how)
        {
            case "modify":
                // Whatever the record is (released, refused or a security event), its request id is rewritten.
                Assert.Contains("\"requestId\":\"", lines[1], StringComparison.Ordinal);
                lines[1] = lines[1].Replace("\"requestId\":\"", "\"requestId\":\"x", StringComparison.Ordinal);
                break;
            case "delete":
                lines.RemoveAt(1);
                break;
            default:
                (lines[1], lines[2]) = (lines[2], lines[1]);
                break;
        }

        return Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
    }
}
