using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Integration.Tests.Gateway;

/// <summary>
/// Signed requests (RFC 9421) through the running gateway, in both lanes: a model whose policy requires them serves a
/// correctly signed request once; a replayed, a stale, a body-altered and an unsigned request get the no-token 401 and
/// never reach the model; the jobs route is held to the same rule; a model not requiring signatures is unaffected. The
/// signatures come from <c>ssctl sign</c>, the Python and the curl clients of docs/examples, and .NET.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class SignedRequestTests(StackFixture fixture)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";
    private const string NoTokenError = "a valid bearer token is required";
    private const string KeyId = "it-key-1";

    [StackFact]
    public async Task Infer_SignedWithSsctl_ServedOnceThenAReplayIs401()
    {
        var model = await PublishSignedModelAsync();
        var caller = await NewCallerAsync(registerWithSsctl: true);
        var url = Url(model);
        var bodyFile = Path.Combine(caller.Folder, "body.json");
        await File.WriteAllTextAsync(bodyFile, Body);

        var sign = await Ssctl.RunAsync(fixture, "sign", "--key", caller.KeyFile, "--key-id", KeyId, "--url", url.AbsoluteUri, "--body", bodyFile, "--token", caller.Token);
        Assert.True(sign.ExitCode == 0, sign.Output);
        var headers = sign.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => p[1].Trim());
        Assert.Equal(["Content-Digest", "Signature-Input", "Signature"], headers.Keys);

        using var first = await SendAsync(url, caller.Token, Body, headers);
        using var replayed = await SendAsync(url, caller.Token, Body, headers);

        Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync() + fixture.LogTail());
        Assert.Equal("pass", (await RecordAsync(first)).GetProperty("stages").GetProperty("signature").GetString());
        await AssertRefusedAsync(replayed, "replay");
    }

    [StackFact]
    public async Task Infer_StaleSignature_401()
    {
        var model = await PublishSignedModelAsync();
        var caller = await NewCallerAsync();

        using var stale = await SendAsync(Url(model), caller.Token, Body, caller.Sign(Url(model), Body, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(6)));
        using var future = await SendAsync(Url(model), caller.Token, Body, caller.Sign(Url(model), Body, DateTimeOffset.UtcNow + TimeSpan.FromMinutes(2)));

        await AssertRefusedAsync(stale, "stale");
        await AssertRefusedAsync(future, "stale");
    }

    [StackFact]
    public async Task Infer_BodyAlteredAfterSigning_401()
    {
        var model = await PublishSignedModelAsync();
        var caller = await NewCallerAsync();
        var headers = caller.Sign(Url(model), Body, DateTimeOffset.UtcNow);

        using var altered = await SendAsync(Url(model), caller.Token, Body.Replace("0.35", "0.95", StringComparison.Ordinal), headers);

        await AssertRefusedAsync(altered, "digest_mismatch");
    }

    [StackFact]
    public async Task Infer_UnsignedToASigningModel401_OtherModelsUnaffected()
    {
        var model = await PublishSignedModelAsync();
        var caller = await NewCallerAsync();

        using var unsigned = await SendAsync(Url(model), caller.Token, Body, null);
        using var other = await SendAsync(new Uri(fixture.Stack.GatewayBaseUrl, "v2/models/credit-risk/infer"), caller.Token, Body, null);

        await AssertRefusedAsync(unsigned, "signature_missing");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [StackFact]
    public async Task Jobs_SigningModel_UnsignedRefusedSignedAccepted()
    {
        var model = await PublishSignedModelAsync();
        var caller = await NewCallerAsync();
        var jobs = new Uri(fixture.Stack.GatewayBaseUrl, $"v2/models/{model}/jobs");
        var items = "{\"items\":[" + Body + "]}";

        using var unsigned = await SendAsync(jobs, caller.Token, items, null);
        using var signed = await SendAsync(jobs, caller.Token, items, caller.Sign(jobs, items, DateTimeOffset.UtcNow));

        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal(NoTokenError, JsonDocument.Parse(await unsigned.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        Assert.True(signed.StatusCode == HttpStatusCode.Accepted, await signed.Content.ReadAsStringAsync());
    }

    [ExternalClientFact("python3", "-c", "import cryptography")]
    public async Task Infer_PythonClientOfTheDocs_200()
    {
        var model = await PublishSignedModelAsync();
        var caller = await NewCallerAsync();

        var (exit, output) = await RunExampleAsync(caller, "python3", "signed_request.py", Url(model));

        Assert.True(exit == 0, output);
        Assert.StartsWith("200", output, StringComparison.Ordinal);
    }

    [ExternalClientFact("bash", "-c", "command -v curl && command -v openssl && command -v xxd")]
    public async Task Infer_CurlAndOpensslClientOfTheDocs_200()
    {
        var model = await PublishSignedModelAsync();
        var caller = await NewCallerAsync();

        var (exit, output) = await RunExampleAsync(caller, "bash", "signed_request.sh", Url(model));

        Assert.True(exit == 0, output);
        Assert.Contains("HTTP 200", output, StringComparison.Ordinal);
    }

    private Uri Url(string model) => new(fixture.Stack.GatewayBaseUrl, $"v2/models/{model}/infer");

    private async Task<(int ExitCode, string Output)> RunExampleAsync(Caller caller, string interpreter, string script, Uri url)
    {
        var bodyFile = Path.Combine(caller.Folder, "body.json");
        await File.WriteAllTextAsync(bodyFile, Body);
        var info = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(fixture.RepositoryRoot, "docs", "examples", script), url.AbsoluteUri, caller.KeyFile, KeyId, bodyFile })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["SERVERLESSSERVE_TOKEN"] = caller.Token;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private async Task AssertRefusedAsync(HttpResponseMessage response, string reason)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, text);
        Assert.Equal(NoTokenError, JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
        var stages = (await RecordAsync(response)).GetProperty("stages");
        Assert.Equal("refused:unauthenticated:" + reason, stages.GetProperty("signature").GetString());
        Assert.False(stages.TryGetProperty("infer", out _));
    }

    private async Task<JsonElement> RecordAsync(HttpResponseMessage response)
    {
        var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        var line = Assert.Single(await fixture.AuditLinesAsync(), l => l.Contains(requestId, StringComparison.Ordinal));
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static async Task<HttpResponseMessage> SendAsync(Uri url, string token, string body, IReadOnlyDictionary<string, string>? signature)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        foreach (var (name, value) in signature ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await client.SendAsync(request);
    }

    // The credit-risk sample under a new name, its policy requiring signed requests.
    private async Task<string> PublishSignedModelAsync()
    {
        var name = "signed-" + Guid.NewGuid().ToString("N")[..6];
        var policy = JsonNode.Parse(SampleModels.GetPolicy(CreditRiskSample.Name))!.AsObject();
        policy["signatures"] = JsonNode.Parse("""{"required":true,"maxAge":"PT5M"}""");
        using var signer = SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(fixture.State.ModelSigningKey));
        using var trusted = TrustedSigners.FromKeys(SigningKeys.ImportPem(await File.ReadAllTextAsync(fixture.State.ModelSigningPublicKey)));
        var store = new ModelStore(fixture.Blobs.GetBlobContainerClient(ModelStoreLayout.DefaultContainerName), trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance);
        await store.PublishAsync(ModelPackager.Pack(name, "1", SampleModels.BuildModel(CreditRiskSample.Name), JsonSerializer.SerializeToUtf8Bytes(policy), signer, DateTimeOffset.UtcNow));
        return name;
    }

    // A new caller with a token and a P-256 key pair on disk, its public key registered in the gateway's key table
    // (through ssctl, or directly through the store the admin plane uses).
    private async Task<Caller> NewCallerAsync(bool registerWithSsctl = false)
    {
        var subject = "signer-" + Guid.NewGuid().ToString("N")[..8];
        var folder = Path.Combine(fixture.State.Directory, "it-signers", subject);
        Directory.CreateDirectory(folder);
        var keyFile = Path.Combine(folder, "request.key.pem");
        var created = await Ssctl.RunAsync(fixture, "keys", "create-request-key", "--out", keyFile);
        Assert.True(created.ExitCode == 0, created.Output);
        var publicKey = Path.Combine(folder, "request.key.pub.pem");
        if (registerWithSsctl)
        {
            var registered = await Ssctl.RunAsync(
                fixture, "keys", "register-request-key", "--subject", subject, "--public-key", publicKey, "--key-id", KeyId,
                "--state", fixture.State.Directory, "--connection-string", fixture.Stack.Azurite.ConnectionString);
            Assert.True(registered.ExitCode == 0, registered.Output);
        }
        else
        {
            var pseudonym = new CallerPseudonymizer(Convert.FromBase64String((await File.ReadAllTextAsync(fixture.State.AuditPseudonymKey)).Trim())).Pseudonymize(subject);
            var store = new RequestKeyStore(new TableServiceClient(fixture.Stack.Azurite.ConnectionString).GetTableClient(new SignatureOptions().KeyTable));
            await store.CreateIfNotExistsAsync();
            using var key = ECDsa.Create();
            key.ImportFromPem(await File.ReadAllTextAsync(publicKey));
            await store.RegisterAsync(pseudonym, KeyId, key.ExportSubjectPublicKeyInfo(), null);
        }

        return new Caller(folder, keyFile, fixture.MintCallerToken(subject));
    }

    private sealed record Caller(string Folder, string KeyFile, string Token)
    {
        public IReadOnlyDictionary<string, string> Sign(Uri url, string body, DateTimeOffset created)
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(File.ReadAllText(KeyFile));
            var headers = RequestSigner.Sign(key, KeyId, "POST", url.AbsoluteUri, Encoding.UTF8.GetBytes(body), "Bearer " + Token, created);
            return new Dictionary<string, string>
            {
                [ContentDigest.HeaderName] = headers.ContentDigest,
                [SignatureHeaders.SignatureInputHeader] = headers.SignatureInput,
                [SignatureHeaders.SignatureHeader] = headers.Signature,
            };
        }
    }
}
