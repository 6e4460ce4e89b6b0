using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Core.Admin;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Admin;

/// <summary>
/// Revocation through the admin plane, in-process beside the gateway: a signing key (every version it signed stops
/// serving), one token by its id, every token of a caller, and an admin's own token on the admin plane.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class AdminRevocationTests(InProcessStack stack)
{
    private const string CreditRisk = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [Fact]
    public async Task RevokeSigner_EveryVersionItSignedStopsServing_ListedSignerRevoked()
    {
        var name = "admin-second-signer-" + Guid.NewGuid().ToString("N")[..6];
        var keyId = KeyIds.Compute(InProcessStack.SecondSigner);
        using var admin = stack.AdminClient();
        using var published = await admin.PostAsync("manage/models", Zip(TestPackages.CreditRisk(name, "1", signer: InProcessStack.SecondSigner)));
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        using var client = stack.Client("signer-checker");
        Assert.Equal(HttpStatusCode.OK, await EventuallyAsync(client, $"v2/models/{name}/versions/1/infer", HttpStatusCode.OK));

        try
        {
            using var revoked = await admin.PostAsync($"manage/signing-keys/{keyId}/revocation", null);
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, await EventuallyAsync(client, $"v2/models/{name}/versions/1/infer", HttpStatusCode.ServiceUnavailable));
            using (var other = await client.PostAsync("v2/models/credit-risk/infer", Json(CreditRisk)))
            {
                Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            }

            using var listed = await admin.GetAsync("manage/models");
            Assert.Contains($"\"name\":\"{name}\",\"versions\":[{{\"version\":\"1\",\"state\":\"signer-revoked\"", await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await Store().LiftAsync(ContainmentKind.RevokeSigner, keyId);
        }
    }

    [Fact]
    public async Task RevokeToken_ByItsId_OnlyThatTokenRefused()
    {
        var subject = "revoked-token-" + Guid.NewGuid().ToString("N")[..6];
        var token = stack.CallerToken(subject);
        var tokenId = JsonDocument.Parse(Base64Url(token.Split('.')[1])).RootElement.GetProperty("jti").GetString()!;
        using var admin = stack.AdminClient();

        using var response = await admin.PostAsync("manage/token-revocations", Json($$"""{"tokenId":"{{tokenId}}"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var revokedClient = stack.Client(subject: null);
        revokedClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Unauthorized, await EventuallyAsync(revokedClient, "v2/models/credit-risk/infer", HttpStatusCode.Unauthorized));
        using var fresh = stack.Client(subject);
        using var served = await fresh.PostAsync("v2/models/credit-risk/infer", Json(CreditRisk));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task RevokeCaller_BySubject_TokensIssuedBeforeRefused_AdminsOwnRevokedTokenRefusedToo()
    {
        var subject = "revoked-admin-" + Guid.NewGuid().ToString("N")[..6];
        var oldAdminToken = stack.Issuer.MintAdmin(subject);
        var oldCallerToken = stack.CallerToken(subject);
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        using var admin = stack.AdminClient();

        using var response = await admin.PostAsync("manage/token-revocations", Json($$"""{"subject":"{{subject}}"}"""));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.DoesNotContain(subject, text, StringComparison.Ordinal);
        using var oldCaller = stack.Client(subject: null);
        oldCaller.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", oldCallerToken);
        Assert.Equal(HttpStatusCode.Unauthorized, await EventuallyAsync(oldCaller, "v2/models/credit-risk/infer", HttpStatusCode.Unauthorized));

        // The admin plane reads the same table: that admin's old token is refused there, a new one accepted.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using var oldAdmin = stack.AdminClient(oldAdminToken);
        using var refused = await oldAdmin.GetAsync("manage/models");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // A revoked admin token is what a stolen admin credential looks like: each of its refusals keeps its own
        // record, naming what it tried, where a token without the admin role is counted into a summary past its first.
        var ids = new List<string> { refused.Headers.GetValues("x-request-id").Single() };
        foreach (var path in new[] { "manage/blocks", "manage/token-revocations" })
        {
            using var again = await oldAdmin.PostAsync(path, Json("{\"pseudonym\":\"00000000000000000000000000000000\"}"));
            Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
            ids.Add(again.Headers.GetValues("x-request-id").Single());
        }

        var records = (await stack.AuditLinesAsync())
            .Select(line => AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record, out _) ? record : null)
            .Where(r => r is { Operation: AuditEvent.SecurityOperation, Security.Kind: AdminActions.Kind } && ids.Contains(r.RequestId))
            .Select(r => r!)
            .ToList();
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal("refused:unauthenticated", r.Outcome));
        Assert.Equal(new[] { AdminActions.ListModels, AdminActions.Block, AdminActions.RevokeToken }.Order(StringComparer.Ordinal), records.Select(r => r.Security!.Action).Order(StringComparer.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        using var newAdmin = stack.AdminClient(stack.Issuer.MintAdmin(subject));
        using var accepted = await newAdmin.GetAsync("manage/models");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Theory]
    [InlineData("manage/signing-keys/NOT-A-KEY/revocation", "")]
    [InlineData("manage/token-revocations", """{"tokenId":"a","subject":"b"}""")]
    [InlineData("manage/token-revocations", """{"tokenId":"with/slash"}""")]
    [InlineData("manage/token-revocations", """{}""")]
    public async Task Revocation_BadTarget_400(string path, string body)
    {
        using var admin = stack.AdminClient();

        using var response = await admin.PostAsync(path, Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private ContainmentStore Store() => stack.GatewayServices.GetRequiredService<ContainmentStore>();

    private static byte[] Base64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '='));
    }

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

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
