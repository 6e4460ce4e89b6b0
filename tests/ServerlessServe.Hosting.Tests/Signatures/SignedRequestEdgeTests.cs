using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Signatures;

/// <summary>
/// Signed requests through the gateway in-process: a model whose policy requires them serves only a correctly signed,
/// fresh request; every refusal is the no-token 401 while the audit record's <c>signature</c> verdict keeps the reason;
/// the job route cannot bypass it; other models ignore signatures.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class SignedRequestEdgeTests(InProcessStack stack)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";
    private const string NoTokenBody = """{"error":"a valid bearer token is required"}""";
    private const string Path = "v2/models/" + InProcessStack.SignedModel + "/infer";

    [Fact]
    public async Task Infer_SignedCorrectly_ReleasedWithTheSignatureStagePassing()
    {
        using var signer = await SignerAsync("signed-edge-ok");
        var (client, key) = (signer.Client, signer.Key);

        using var response = await client.SendAsync(Signed(client, key, HttpMethod.Post, Path, Body));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("pass", (await SingleRecordAsync(response)).GetProperty("stages").GetProperty("signature").GetString());
    }

    [Fact]
    public async Task Infer_UnsignedOrReplayed_NoTokenAnswerAndTheReasonInTheAuditRecord()
    {
        using var signer = await SignerAsync("signed-edge-refused");
        var (client, key) = (signer.Client, signer.Key);
        using var unsigned = await client.PostAsync(Path, new StringContent(Body, Encoding.UTF8, "application/json"));
        var first = Signed(client, key, HttpMethod.Post, Path, Body);
        var replayed = Signed(client, key, HttpMethod.Post, Path, Body);
        replayed.Headers.Remove("Signature-Input");
        replayed.Headers.Remove("Signature");
        replayed.Headers.TryAddWithoutValidation("Signature-Input", first.Headers.GetValues("Signature-Input"));
        replayed.Headers.TryAddWithoutValidation("Signature", first.Headers.GetValues("Signature"));
        using var accepted = await client.SendAsync(first);
        using var replay = await client.SendAsync(replayed);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        foreach (var (response, reason) in new[] { (unsigned, "signature_missing"), (replay, "replay") })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(NoTokenBody, (await response.Content.ReadAsStringAsync()).TrimEnd()); // padded like every answer of this model
            Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
            var record = await SingleRecordAsync(response);
            Assert.Equal("refused:unauthenticated:" + reason, record.GetProperty("stages").GetProperty("signature").GetString());
            Assert.False(record.GetProperty("stages").TryGetProperty("infer", out _));
            var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
            Assert.Contains(stack.GatewayLogs.GetSnapshot(), r => r.Id.Id == 2100 && r.Message.Contains(requestId, StringComparison.Ordinal) && r.Message.Contains(reason, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Jobs_ModelRequiringSignatures_UnsignedRefusedSignedAccepted()
    {
        using var signer = await SignerAsync("signed-edge-jobs");
        var (client, key) = (signer.Client, signer.Key);
        var jobs = "v2/models/" + InProcessStack.SignedModel + "/jobs";
        var items = "{\"items\":[" + Body + "]}";

        using var unsigned = await client.PostAsync(jobs, new StringContent(items, Encoding.UTF8, "application/json"));
        using var signed = await client.SendAsync(Signed(client, key, HttpMethod.Post, jobs, items));

        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal(NoTokenBody, (await unsigned.Content.ReadAsStringAsync()).TrimEnd());
        Assert.Equal(HttpStatusCode.Accepted, signed.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Infer_SignedBinaryBodyPastOneReadBuffer_DigestTakenOverItsBuffers_TamperedRefused(bool chunked)
    {
        // 320 KB of features in the binary extension: the gateway keeps the body in the buffers it arrived in (the first
        // holds 64 KiB) and takes the digest over them. The rows are more than the policy admits, so a request whose
        // signature passes is refused by validate after it.
        using var signer = await SignerAsync("signed-edge-large-" + (chunked ? "chunked" : "length"));
        var (client, key) = (signer.Client, signer.Key);
        const int Rows = 20_000;
        var features = Enumerable.Range(0, Rows * 4).Select(i => (float)(i % 10)).ToArray();
        var encoded = V2Json.WriteRequest(new InferenceRequest { Inputs = [new Tensor("features", TensorDataType.Fp32, [Rows, 4], features)] }, binaryInputs: true, binaryOutputs: false);
        var tampered = encoded.Body.ToArray();
        tampered[^3] ^= 0x40;

        using var passed = await client.SendAsync(SignedBinary(client, key, encoded.Body, encoded.Body, encoded.HeaderLength!.Value, chunked));
        using var refused = await client.SendAsync(SignedBinary(client, key, encoded.Body, tampered, encoded.HeaderLength.Value, chunked));

        var passedStages = (await SingleRecordAsync(passed)).GetProperty("stages");
        Assert.Equal("pass", passedStages.GetProperty("signature").GetString());
        Assert.StartsWith("refused:", passedStages.GetProperty("validate").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("refused:unauthenticated:digest_mismatch", (await SingleRecordAsync(refused)).GetProperty("stages").GetProperty("signature").GetString());
    }

    // A request whose signature covers signedBody, carrying sentBody in the binary extension, chunked or with a length.
    private static HttpRequestMessage SignedBinary(HttpClient client, ECDsa key, byte[] signedBody, byte[] sentBody, int headerLength, bool chunked)
    {
        var uri = new Uri(client.BaseAddress!, Path);
        var headers = RequestSigner.Sign(key, "edge-key", "POST", uri.AbsoluteUri, signedBody, client.DefaultRequestHeaders.Authorization!.ToString(), DateTimeOffset.UtcNow);
        HttpContent content = chunked ? new StreamContent(new UnseekableStream(sentBody)) : new ByteArrayContent(sentBody);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        request.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", headerLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(ContentDigest.HeaderName, headers.ContentDigest);
        request.Headers.TryAddWithoutValidation(SignatureHeaders.SignatureInputHeader, headers.SignatureInput);
        request.Headers.TryAddWithoutValidation(SignatureHeaders.SignatureHeader, headers.Signature);
        return request;
    }

    // A body whose length the client cannot know up front, so it is sent chunked.
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task Infer_ModelNotRequiringSignatures_UnsignedServedAndASignatureIgnored()
    {
        using var signer = await SignerAsync("signed-edge-other");
        var (client, key) = (signer.Client, signer.Key);

        using var unsigned = await client.PostAsync("v2/models/credit-risk/infer", new StringContent(Body, Encoding.UTF8, "application/json"));
        using var signed = await client.SendAsync(Signed(client, key, HttpMethod.Post, "v2/models/credit-risk/infer", Body + " "));

        Assert.Equal(HttpStatusCode.OK, unsigned.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
    }

    // A client of the gateway for a new caller, and a P-256 key registered to it in the gateway's key table.
    private async Task<Signer> SignerAsync(string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var store = stack.GatewayServices.GetRequiredService<RequestKeyStore>();
        await store.CreateIfNotExistsAsync();
        await store.RegisterAsync(stack.Pseudonym(subject), "edge-key", key.ExportSubjectPublicKeyInfo(), null);
        return new Signer(stack.Client(subject), key);
    }

    private static HttpRequestMessage Signed(HttpClient client, ECDsa key, HttpMethod method, string path, string body)
    {
        var uri = new Uri(client.BaseAddress!, path);
        var bytes = Encoding.UTF8.GetBytes(body);
        var authorization = client.DefaultRequestHeaders.Authorization!.ToString();
        var headers = RequestSigner.Sign(key, "edge-key", method.Method, uri.AbsoluteUri, bytes, authorization, DateTimeOffset.UtcNow);
        var request = new HttpRequestMessage(method, uri) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(ContentDigest.HeaderName, headers.ContentDigest);
        request.Headers.TryAddWithoutValidation(SignatureHeaders.SignatureInputHeader, headers.SignatureInput);
        request.Headers.TryAddWithoutValidation(SignatureHeaders.SignatureHeader, headers.Signature);
        return request;
    }

    private async Task<JsonElement> SingleRecordAsync(HttpResponseMessage response)
    {
        var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        var line = Assert.Single(await stack.AuditLinesAsync(), l => l.Contains(requestId, StringComparison.Ordinal));
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private sealed record Signer(HttpClient Client, ECDsa Key) : IDisposable
    {
        public void Dispose()
        {
            Client.Dispose();
            Key.Dispose();
        }
    }
}
