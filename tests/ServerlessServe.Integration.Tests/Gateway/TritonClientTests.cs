using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Gateway;

/// <summary>
/// The gateway through NVIDIA Triton's Python HTTP client (<c>tritonclient.http</c>), a V2 client this project did not
/// write, in both lanes: health, server and model metadata, readiness, inference with every mix of JSON and the binary
/// extension, BYTES outputs, a 600 KB image, concurrent requests on the client's connection pool, and the refusals it
/// turns into exceptions. The client runs <c>External/triton_checks.py</c> and prints what it saw; the answers are
/// compared with this project's own client on the same stack. docs/examples/triton_client.py runs as written.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class TritonClientTests(StackFixture fixture)
{
    private static readonly float[][] CreditRows = [[0.35f, 0.4f, 1f, 9f], [0.7f, 0.85f, 5f, 3f]];

    [TritonClientFact]
    public async Task Server_HealthMetadataReadiness_AsTheClientReadsThem()
    {
        using var seen = await RunChecksAsync("server");
        var root = seen.RootElement;

        Assert.True(root.GetProperty("live").GetBoolean());
        Assert.True(root.GetProperty("ready").GetBoolean());
        Assert.Equal("serverlessserve", root.GetProperty("server_metadata").GetProperty("name").GetString());
        Assert.Contains("binary_tensor_data", root.GetProperty("server_metadata").GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
        Assert.True(root.GetProperty("model_ready").GetBoolean());
        Assert.False(root.GetProperty("model_ready_without_token").GetBoolean());
        Assert.False(root.GetProperty("unknown_model_ready").GetBoolean());

        var metadata = root.GetProperty("model_metadata");
        Assert.Equal("credit-risk", metadata.GetProperty("name").GetString());
        Assert.Equal(["features FP32 [-1,4]"], Tensors(metadata.GetProperty("inputs")));
        Assert.Equal(["probabilities FP32 [-1,2]", "probabilities_classes BYTES [-1,2]"], Tensors(metadata.GetProperty("outputs")));

        AssertRefusal(root.GetProperty("model_metadata_without_token"), "401", "a valid bearer token is required");
        AssertRefusal(root.GetProperty("unknown_model_metadata"), "404", "model or version not found");
        AssertRefusal(root.GetProperty("repository_index"), "404", "no such route");
    }

    [TritonClientFact]
    public async Task Infer_EveryEncoding_TheAnswersOfOurOwnClient()
    {
        var (probabilities, classes) = await CreditRiskByOurClientAsync();
        var image = Enumerable.Range(0, 3 * 224 * 224).Select(i => (i % 251) / 251f).ToArray();
        var work = Directory.CreateTempSubdirectory("serverlessserve-it-triton-");
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(work.FullName, "image.f32"), MemoryMarshal.AsBytes(image.AsSpan()).ToArray());

            using var seen = await RunChecksAsync("infer", work.FullName);
            var root = seen.RootElement;

            var encodings = new Dictionary<string, string[]>
            {
                ["input json, outputs json"] = [],
                ["input json, outputs binary"] = ["probabilities", "probabilities_classes"],
                ["input json, outputs default"] = ["probabilities", "probabilities_classes"],
                ["input binary, outputs json"] = [],
                ["input binary, outputs binary"] = ["probabilities", "probabilities_classes"],
                ["input binary, outputs default"] = ["probabilities", "probabilities_classes"],
            };
            var index = 0;
            foreach (var (key, binaryOutputs) in encodings)
            {
                var answer = root.GetProperty(key);
                Assert.Equal("credit-risk", answer.GetProperty("model_name").GetString());
                Assert.Equal($"triton-{index++}", answer.GetProperty("id").GetString());
                Assert.Equal(["probabilities", "probabilities_classes"], answer.GetProperty("output_names").EnumerateArray().Select(e => e.GetString()));
                Assert.Equal(binaryOutputs, answer.GetProperty("binary_outputs").EnumerateArray().Select(e => e.GetString()!));
                Assert.Equal("float32", answer.GetProperty("probabilities_dtype").GetString());
                Assert.Equal(probabilities, Floats(answer.GetProperty("probabilities")));
                Assert.Equal(classes, answer.GetProperty("classes").EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(e => e.GetString()!));
            }

            Assert.Equal(["probabilities"], root.GetProperty("only probabilities").EnumerateArray().Select(e => e.GetString()));

            const string Note = "Contact [EMAIL] or [PHONE]; backup card [CREDIT_CARD].";
            Assert.Equal([Note], root.GetProperty("customer-notes").GetProperty("json").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal([Note], root.GetProperty("customer-notes").GetProperty("binary").EnumerateArray().Select(e => e.GetString()));

            var resnet = root.GetProperty("resnet18");
            Assert.Equal([1L, 512L, 1L, 1L], resnet.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            var theirs = MemoryMarshal.Cast<byte, float>(await File.ReadAllBytesAsync(Path.Combine(work.FullName, "resnet18.f32"))).ToArray();
            var ours = await GatewayInferenceTests.ResNetFeaturesAsync(fixture, image);
            Assert.Contains(ours, v => v != 0f);
            Assert.True(GatewayInferenceTests.MaxDifference(ours, theirs) < 1e-4f, "the same image gives the same features through either client");

            var concurrent = root.GetProperty("concurrent");
            Assert.Equal(16, concurrent.GetProperty("requests").GetInt32());
            Assert.True(concurrent.GetProperty("distinct_answers").GetInt32() >= 8, "the rows must give different answers for a swap to show");
            Assert.Empty(concurrent.GetProperty("mismatches").EnumerateArray());
            Assert.Equal(Enumerable.Range(0, 16).Select(i => $"c{i}"), concurrent.GetProperty("ids").EnumerateArray().Select(e => e.GetString()));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [TritonClientFact]
    public async Task Infer_BadRequests_StatusAndSanitisedMessage_ClientStillServed()
    {
        var (probabilities, _) = await CreditRiskByOurClientAsync();

        using var seen = await RunChecksAsync("errors");
        var root = seen.RootElement;

        AssertRefusal(root.GetProperty("unknown model"), "404", "model or version not found");
        AssertRefusal(root.GetProperty("no token"), "401", "a valid bearer token is required");
        AssertRefusal(root.GetProperty("bad token"), "401", "a valid bearer token is required");
        AssertRefusal(root.GetProperty("class_count"), "400", "outputs[0]: unsupported parameter");
        AssertRefusal(root.GetProperty("priority"), "400", "request: unsupported parameter");
        AssertRefusal(root.GetProperty("unknown output"), "400", "outputs[0]: not an output of this model");
        AssertRefusal(root.GetProperty("unknown input"), "400", "inputs[0]: not an input of this model");
        AssertRefusal(root.GetProperty("wrong datatype"), "400", "input 'features': datatype must be FP32");
        AssertRefusal(root.GetProperty("wrong shape"), "400", "input 'features': dimension 1 must be 4");
        Assert.Equal(probabilities, Floats(root.GetProperty("after")));
    }

    [TritonClientFact]
    public async Task DocsExample_RunsAsWritten()
    {
        var (exit, stdout, stderr) = await TritonClient.RunAsync(
            fixture.RepositoryRoot,
            Path.Combine(fixture.RepositoryRoot, "docs", "examples", "triton_client.py"),
            [ClientUrl()],
            new Dictionary<string, string> { ["SERVERLESSSERVE_TOKEN"] = fixture.MintCallerToken("triton-docs-example") });

        Assert.True(exit == 0, stderr + fixture.LogTail());
        Assert.Contains("live: True", stdout, StringComparison.Ordinal);
        Assert.Contains("'name': 'credit-risk'", stdout, StringComparison.Ordinal);
        Assert.Contains("classes: [['medium', 'low'], ['high', 'medium']]", stdout, StringComparison.Ordinal);
    }

    // host:port/path without a scheme, as InferenceServerClient takes it.
    private string ClientUrl()
    {
        var gateway = fixture.Stack.GatewayBaseUrl;
        return string.Create(CultureInfo.InvariantCulture, $"{gateway.Host}:{gateway.Port}{gateway.AbsolutePath.TrimEnd('/')}");
    }

    private async Task<JsonDocument> RunChecksAsync(string scenario, string? work = null)
    {
        var script = Path.Combine(fixture.RepositoryRoot, "tests", "ServerlessServe.Integration.Tests", "External", "triton_checks.py");
        var folder = work ?? Path.GetTempPath();
        var (exit, stdout, stderr) = await TritonClient.RunAsync(
            fixture.RepositoryRoot, script, [ClientUrl(), fixture.MintCallerToken("triton-client"), scenario, folder]);
        Assert.True(exit == 0, $"triton_checks.py {scenario} exited {exit}: {stderr}{fixture.LogTail()}");
        return JsonDocument.Parse(stdout);
    }

    private async Task<(float[] Probabilities, string[] Classes)> CreditRiskByOurClientAsync()
    {
        var rows = string.Join(',', CreditRows.Select(r => "[" + string.Join(',', r.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]"));
        using var response = await fixture.Gateway.PostAsync(
            "v2/models/credit-risk/infer",
            StackFixture.Json($$"""{"inputs":[{"name":"features","shape":[2,4],"datatype":"FP32","data":[{{rows}}]}]}"""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + fixture.LogTail());
        using var json = JsonDocument.Parse(body);
        var outputs = json.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        return (
            outputs["probabilities"].GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray(),
            outputs["probabilities_classes"].GetProperty("data").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    private static string[] Tensors(JsonElement list) =>
        list.EnumerateArray()
            .Select(t => $"{t.GetProperty("name").GetString()} {t.GetProperty("datatype").GetString()} [{string.Join(',', t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]")
            .ToArray();

    // The client prints float32 values as Python floats (their exact double); each maps back to the same float.
    private static float[] Floats(JsonElement rows) =>
        rows.EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(e => (float)e.GetDouble()).ToArray();

    private static void AssertRefusal(JsonElement refusal, string status, string message)
    {
        Assert.Equal(JsonValueKind.Object, refusal.ValueKind);
        Assert.Equal(status, refusal.GetProperty("status").GetString());
        Assert.Equal(message, refusal.GetProperty("message").GetString());
    }
}
