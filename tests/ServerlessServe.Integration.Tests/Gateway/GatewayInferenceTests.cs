using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerlessServe.Integration.Tests.Gateway;

[Collection(StackCollection.Name)]
public sealed class GatewayInferenceTests(StackFixture fixture, ITestOutputHelper output)
{
    [StackFact]
    public async Task Infer_CustomerNotes_EveryPiiKindRedacted()
    {
        var ids = string.Join(',', Enumerable.Range(0, 9));
        using var response = await fixture.Gateway.PostAsync(
            "v2/models/customer-notes/infer",
            StackFixture.Json($$"""{"id":"notes-1","inputs":[{"name":"customer_id","shape":[9],"datatype":"INT64","data":[{{ids}}]}]}"""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + fixture.LogTail());

        using var json = JsonDocument.Parse(body);
        Assert.Equal("customer-notes", json.RootElement.GetProperty("model_name").GetString());
        Assert.Equal("notes-1", json.RootElement.GetProperty("id").GetString());
        var notes = json.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(9, notes.Length);
        var all = string.Join('\n', notes);
        foreach (var placeholder in new[] { "[EMAIL]", "[CREDIT_CARD]", "[IBAN]", "[US_SSN]", "[PHONE]", "[IPV4]", "[IPV6]" })
        {
            Assert.Contains(placeholder, all, StringComparison.Ordinal);
        }

        foreach (var leaked in new[] { "jane.doe@example.com", "4111 1111 1111 1111", "GB82", "123-45-6789", "202-555-0143", "192.0.2.44", "2001:db8::17", "5555-5555-5555-4444" })
        {
            Assert.DoesNotContain(leaked, all, StringComparison.Ordinal);
        }

        Assert.Equal("Prefers branch visits; no digital contact details on file.", notes[8]);
    }

    [StackFact]
    public async Task Infer_CreditRisk_TopTwoRoundedWithLabels()
    {
        using var response = await fixture.Gateway.PostAsync(
            "v2/models/credit-risk/infer",
            StackFixture.Json("""{"inputs":[{"name":"features","shape":[2,4],"datatype":"FP32","data":[[10,20,30,40],[90,80,70,60]]}]}"""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + fixture.LogTail());

        using var json = JsonDocument.Parse(body);
        var outputs = json.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        Assert.Equal(2, outputs.Count);
        var scores = outputs["probabilities"];
        Assert.Equal([2L, 2L], scores.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        var values = scores.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.All(values, v => Assert.Equal(Math.Round(v, 3), v));
        Assert.True(values[0] >= values[1] && values[2] >= values[3], "top-k scores are sorted descending per row");
        var labels = outputs["probabilities_classes"].GetProperty("data").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.All(labels, l => Assert.Contains(l, new[] { "low", "medium", "high" }));
    }

    [StackFact]
    public async Task Infer_BinaryTensorExtension_RoundTripsLikeTritonClients()
    {
        var request = new InferenceRequest
        {
            Inputs = [new Tensor("features", TensorDataType.Fp32, [1, 4], new float[] { 1, 2, 3, 4 })],
            Outputs = [new RequestedOutput("probabilities", BinaryData: true)],
        };
        var encoded = V2Json.WriteRequest(request, binaryInputs: true, binaryOutputs: true);
        using var message = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer") { Content = new ByteArrayContent(encoded.Body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue(encoded.ContentType);
        message.Headers.Add("Inference-Header-Content-Length", encoded.HeaderLength!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await fixture.Gateway.SendAsync(message);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(body) + fixture.LogTail());

        var headerLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(headerLength < body.Length, "binary output data follows the JSON header");
        var parsed = V2Json.ReadResponse(body, headerLength, new ProtocolLimits());
        var scores = parsed.Outputs.Single(o => o.Name == "probabilities");
        Assert.Equal(TensorDataType.Fp32, scores.DataType);
        Assert.Equal([1L, 2L], scores.Shape);
    }

    [StackFact]
    public async Task Infer_ResNet18_BinaryInputServed()
    {
        var pixels = new float[3 * 224 * 224];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (i % 255) / 255f;
        }

        var features = await ResNetFeaturesAsync(fixture, pixels);

        Assert.Equal(512, features.Length);
        Assert.Contains(features, v => v != 0f);
    }

    [StackFact]
    public async Task Infer_ResNet18_ConcurrentCallersDistinctImages_EachGetsItsOwnFeatures()
    {
        // Images are decoded into pooled arrays in both apps and reused across requests: concurrent requests with
        // different images must each get the features of their own image, as when it was sent alone.
        var images = Enumerable.Range(1, 4).Select(seed => Enumerable.Range(0, 3 * 224 * 224).Select(i => ((i * seed) % 255) / 255f).ToArray()).ToArray();
        var alone = new float[images.Length][];
        for (var i = 0; i < images.Length; i++)
        {
            alone[i] = await ResNetFeaturesAsync(fixture, images[i]);
        }

        for (var i = 1; i < alone.Length; i++)
        {
            Assert.True(MaxDifference(alone[0], alone[i]) > 0.01f, "the images must give different features for a swap to show");
        }

        for (var round = 0; round < 3; round++)
        {
            var together = await Task.WhenAll(images.Select(image => ResNetFeaturesAsync(fixture, image)));
            for (var i = 0; i < images.Length; i++)
            {
                Assert.True(MaxDifference(alone[i], together[i]) < 1e-3f, $"round {round}, image {i}: not its own features");
            }
        }
    }

    [StackFact]
    public async Task Infer_ResNet18_SentChunked_SameFeaturesAsWithALength()
    {
        // A caller may send a large tensor chunked, which the Functions host passes through instead of reading it whole
        // first (docs/protocol.md, "Chunked bodies"): the same image gives the same features either way.
        var pixels = Enumerable.Range(0, 3 * 224 * 224).Select(i => ((i * 7) % 255) / 255f).ToArray();

        var withLength = await ResNetFeaturesAsync(fixture, pixels);
        var chunked = await ResNetFeaturesAsync(fixture, pixels, chunked: true);

        Assert.Equal(512, chunked.Length);
        Assert.True(MaxDifference(withLength, chunked) < 1e-6f, "a chunked image gave other features");
    }

    // The features resnet18 gives for one 1x3x224x224 image through the gateway, sent and answered in the binary
    // extension by this project's own codec; chunked: without a Content-Length.
    internal static async Task<float[]> ResNetFeaturesAsync(StackFixture fixture, float[] pixels, bool chunked = false)
    {
        var request = new InferenceRequest { Inputs = [new Tensor("Input247", TensorDataType.Fp32, [1, 3, 224, 224], pixels)] };
        using var message = new HttpRequestMessage(HttpMethod.Post, "v2/models/resnet18/infer");
        if (chunked)
        {
            var content = new V2BinaryRequestContent(request, binaryOutputs: true, declareLength: false);
            message.Content = content;
            message.Headers.Add("Inference-Header-Content-Length", content.HeaderLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            var encoded = V2Json.WriteRequest(request, binaryInputs: true, binaryOutputs: true);
            message.Content = new ByteArrayContent(encoded.Body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue(encoded.ContentType);
            message.Headers.Add("Inference-Header-Content-Length", encoded.HeaderLength!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = await fixture.Gateway.SendAsync(message);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 400))) + fixture.LogTail());
        var headerLength = response.Headers.TryGetValues("Inference-Header-Content-Length", out var values) ? int.Parse(values.Single(), System.Globalization.CultureInfo.InvariantCulture) : (int?)null;
        return V2Json.ReadResponse(body, headerLength, new ProtocolLimits()).Outputs.Single().As<float>();
    }

    internal static float MaxDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        var max = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }

    [StackFact]
    public async Task HealthAndMetadata_V2ClientCalls_Answered()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("v2/health/ready")).StatusCode);

        using var server = JsonDocument.Parse(await anonymous.GetStringAsync("v2"));
        Assert.Equal("serverlessserve", server.RootElement.GetProperty("name").GetString());
        Assert.Contains("binary_tensor_data", server.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));

        using var metadata = JsonDocument.Parse(await fixture.Gateway.GetStringAsync("v2/models/credit-risk"));
        output.WriteLine(metadata.RootElement.ToString());
        Assert.Equal("credit-risk", metadata.RootElement.GetProperty("name").GetString());
        Assert.Equal("onnxruntime_onnx", metadata.RootElement.GetProperty("platform").GetString());
        var input = metadata.RootElement.GetProperty("inputs")[0];
        Assert.Equal("features", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal([-1L, 4L], input.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        var outputNames = metadata.RootElement.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["probabilities", "probabilities_classes"], outputNames);

        Assert.Equal(HttpStatusCode.OK, (await fixture.Gateway.GetAsync("v2/models/credit-risk/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Gateway.GetAsync("v2/models/credit-risk/versions/1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Gateway.GetAsync("v2/models/credit-risk/versions/1/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("v2/models/credit-risk")).StatusCode);
    }
}
