using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Admin;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Admin;

/// <summary>
/// Request-signing keys registered and revoked through the admin plane, in-process beside the gateway: a key registered
/// for a caller makes that caller's signed requests pass at once; bad registrations are refused and recorded; every
/// change is audited.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class AdminRequestKeyTests(InProcessStack stack)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";
    private const string Path = "v2/models/" + InProcessStack.SignedModel + "/infer";

    [Fact]
    public async Task RegisterRequestKey_ThenTheCallersSignedRequestIsServed_RevokedThenRefused()
    {
        var subject = "signer-" + Guid.NewGuid().ToString("N")[..6];
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var admin = stack.AdminClient();
        using var caller = stack.Client(subject);

        using (var unknown = await caller.SendAsync(Signed(caller, key, "laptop-1")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        }

        var registration = JsonSerializer.Serialize(new { subject, keyId = "laptop-1", publicKey = key.ExportSubjectPublicKeyInfoPem() });
        using (var registered = await admin.PostAsync("manage/request-keys", new StringContent(registration, Encoding.UTF8, "application/json")))
        {
            var text = await registered.Content.ReadAsStringAsync();
            Assert.True(registered.StatusCode == HttpStatusCode.OK, text);
            Assert.Equal(stack.Pseudonym(subject), JsonDocument.Parse(text).RootElement.GetProperty("caller").GetString());
        }

        // The refused request above spent this caller's on-demand key read for a second; the key is seen at the next
        // read (on demand after that second, or the periodic refresh).
        var deadline = DateTime.UtcNow.AddSeconds(15);
        HttpStatusCode status;
        do
        {
            using var response = await caller.SendAsync(Signed(caller, key, "laptop-1"));
            status = response.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(250);
            }
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, status);

        using (var revoked = await admin.DeleteAsync($"manage/request-keys/{stack.Pseudonym(subject)}/laptop-1"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }

        var records = await AdminRecordsAsync(stack.Pseudonym("admin-tests"));
        Assert.Contains(records, r => r.Security!.Action == AdminActions.RegisterRequestKey && r.Outcome == "done" && r.Security.Evidence["caller"] == stack.Pseudonym(subject));
        Assert.Contains(records, r => r.Security!.Action == AdminActions.RevokeRequestKey && r.Outcome == "done" && r.Security.Evidence["keyId"] == "laptop-1");
        Assert.DoesNotContain(records, r => r.Security!.Evidence.Values.Any(v => v.Contains("BEGIN PUBLIC KEY", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("""{"subject":"a","keyId":"k1"}""")]
    [InlineData("""{"subject":"a","pseudonym":"00000000000000000000000000000000","keyId":"k1","publicKey":"x"}""")]
    [InlineData("""{"subject":"a","keyId":"bad key id","publicKey":"-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----"}""")]
    [InlineData("""{"subject":"a","keyId":"k1","publicKey":"not a pem"}""")]
    [InlineData("""{"subject":"a","keyId":"k1","publicKey":"x","extra":"y"}""")]
    [InlineData("""{"subject":"a","key\udc00":"k1"}""")] // half a surrogate pair in a name: listing the names threw (500)
    public async Task RegisterRequestKey_BadBody_400Recorded(string body)
    {
        using var admin = stack.AdminClient();

        using var response = await admin.PostAsync("manage/request-keys", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        Assert.Contains(await stack.AuditLinesAsync(), l => l.Contains(requestId, StringComparison.Ordinal) && l.Contains("refused:invalid", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RegisterRequestKey_RsaKey_Refused()
    {
        using var rsa = RSA.Create(2048);
        using var admin = stack.AdminClient();
        var body = JsonSerializer.Serialize(new { subject = "rsa-user", keyId = "k1", publicKey = rsa.ExportSubjectPublicKeyInfoPem() });

        using var response = await admin.PostAsync("manage/request-keys", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static HttpRequestMessage Signed(HttpClient client, ECDsa key, string keyId)
    {
        var uri = new Uri(client.BaseAddress!, Path);
        var bytes = Encoding.UTF8.GetBytes(Body);
        var headers = RequestSigner.Sign(key, keyId, "POST", uri.AbsoluteUri, bytes, client.DefaultRequestHeaders.Authorization!.ToString(), DateTimeOffset.UtcNow);
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(ContentDigest.HeaderName, headers.ContentDigest);
        request.Headers.TryAddWithoutValidation(SignatureHeaders.SignatureInputHeader, headers.SignatureInput);
        request.Headers.TryAddWithoutValidation(SignatureHeaders.SignatureHeader, headers.Signature);
        return request;
    }

    private async Task<List<AuditRecord>> AdminRecordsAsync(string admin) =>
        (await stack.AuditLinesAsync())
            .Select(line => AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record, out _) ? record : null)
            .Where(r => r is { Operation: AuditEvent.SecurityOperation, Security.Kind: AdminActions.Kind } && r.Caller == admin)
            .Select(r => r!)
            .ToList();
}
