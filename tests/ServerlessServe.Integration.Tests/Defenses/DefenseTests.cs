using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;
using ServerlessServe.Eval.Attacks;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Integration.Tests.Jobs;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Integration.Tests.Defenses;

/// <summary>
/// The out-of-distribution screen and feature squeezing over the running stack, on copies of the digits model
/// published with <c>ssctl model publish --training-data</c>: enforce refuses with the one uniform 400, shadow serves
/// and records; every decision and its score is on the audit record; the score never reaches the caller.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class DefenseTests(StackFixture fixture)
{
    private static readonly float[] Digit = DigitsData.Load().Test.Row(0);

    // A BIM example of the same test digit at ε = 0.3 (normalised), which the model gets wrong.
    private static readonly float[] Adversarial = new Bim((x, label) => DigitsSample.Weights.InputGradient(x, label), 0.3).Perturb(Digit, DigitsData.Load().Test.Labels[0]);

    // Each model copy is published once per fixture (the store is write-once).
    private static readonly Dictionary<string, Task<string>> Published = [];

    [StackFact]
    public async Task Enforce_SaturatedImageAndAdversarialExample_RefusedAlike_CleanDigitServed()
    {
        var name = await PublishAsync(DefenseMode.Enforce, DefenseMode.Enforce);

        var (clean, cleanBody, cleanId) = await InferAsync(name, Digit);
        var (saturated, saturatedBody, saturatedId) = await InferAsync(name, Enumerable.Repeat(16f, 64).ToArray());
        var (adversarial, adversarialBody, adversarialId) = await InferAsync(name, Adversarial);

        Assert.True(clean == HttpStatusCode.OK, cleanBody + fixture.LogTail());
        Assert.DoesNotContain(FeatureSqueezing.ScoreParameter, cleanBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, saturated);
        Assert.Equal(HttpStatusCode.BadRequest, adversarial);

        // One message for every screen: the caller cannot tell which one refused, nor by how much.
        Assert.Equal(saturatedBody, adversarialBody);
        Assert.Contains("input screening", saturatedBody, StringComparison.Ordinal);

        var records = await RecordsAsync(cleanId, saturatedId, adversarialId);
        Assert.False(Flagged(records[cleanId], "ood"));
        Assert.False(Flagged(records[cleanId], "squeeze"));
        Assert.True(Flagged(records[saturatedId], "ood"));
        Assert.Equal("refused:invalid", records[saturatedId].GetProperty("stages").GetProperty("screen").GetString());
        Assert.False(records[saturatedId].GetProperty("stages").TryGetProperty("infer", out _));
        Assert.Equal("invalid", records[adversarialId].GetProperty("outcome").GetString());

        // A strong perturbation is often out of distribution as well: whichever screen runs first refuses it.
        var defenses = records[adversarialId].GetProperty("defenses");
        Assert.True(defenses.EnumerateObject().Any(d => d.Value.GetProperty("flagged").GetBoolean()), defenses.GetRawText());
    }

    [StackFact]
    public async Task EnforcedSqueezing_AdversarialExampleRefusedAfterInference_ScoreOnTheRecord()
    {
        var name = await PublishAsync(DefenseMode.Shadow, DefenseMode.Enforce);

        var (status, body, requestId) = await InferAsync(name, Adversarial);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.DoesNotContain(FeatureSqueezing.ScoreParameter, body, StringComparison.Ordinal);
        var record = (await RecordsAsync(requestId))[requestId];
        Assert.Equal("pass", record.GetProperty("stages").GetProperty("infer").GetString());
        Assert.Equal("refused:invalid", record.GetProperty("stages").GetProperty("squeeze").GetString());
        Assert.Null(record.GetProperty("outputSha256").GetString());
        var squeeze = record.GetProperty("defenses").GetProperty("squeeze");
        Assert.True(squeeze.GetProperty("flagged").GetBoolean());
        Assert.Equal("enforce", squeeze.GetProperty("mode").GetString());
        Assert.True(squeeze.GetProperty("score").GetDouble() > squeeze.GetProperty("threshold").GetDouble());
    }

    [StackFact]
    public async Task Shadow_FlaggedInputsServed_TheRecordSaysWhy()
    {
        var name = await PublishAsync(DefenseMode.Shadow, DefenseMode.Shadow);

        var (saturated, saturatedBody, saturatedId) = await InferAsync(name, Enumerable.Repeat(16f, 64).ToArray());
        var (adversarial, adversarialBody, adversarialId) = await InferAsync(name, Adversarial);

        Assert.True(saturated == HttpStatusCode.OK, saturatedBody);
        Assert.True(adversarial == HttpStatusCode.OK, adversarialBody);
        Assert.DoesNotContain(FeatureSqueezing.ScoreParameter, adversarialBody, StringComparison.Ordinal);
        var records = await RecordsAsync(saturatedId, adversarialId);
        Assert.True(Flagged(records[saturatedId], "ood"));
        Assert.Equal("shadow", records[saturatedId].GetProperty("defenses").GetProperty("ood").GetProperty("mode").GetString());
        Assert.True(Flagged(records[adversarialId], "squeeze"));
        Assert.All(records.Values, r => Assert.Equal("released", r.GetProperty("outcome").GetString()));
    }

    [StackFact]
    public async Task PaddedModel_EveryAnswerAndEveryRefusalHasOneLength()
    {
        var name = await PublishAsync(DefenseMode.Shadow, DefenseMode.Shadow);
        var test = DigitsData.Load().Test;
        var rows = Enumerable.Range(0, 10).Select(digit => test.Row(test.Labels.ToList().IndexOf(digit))).ToList();

        var answers = new List<(HttpStatusCode Status, string Body, string RequestId)>();
        foreach (var row in rows)
        {
            answers.Add(await InferAsync(name, row));
        }

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Single(answers.Select(a => System.Text.Encoding.UTF8.GetByteCount(a.Body)).Distinct());
        Assert.Equal(1024, System.Text.Encoding.UTF8.GetByteCount(answers[0].Body));

        // Refusals of one status are one length whatever the reason (an out-of-range pixel; a bad shape).
        var outOfRange = await InferAsync(name, Enumerable.Repeat(17f, 64).ToArray());
        using var badShape = await fixture.Gateway.PostAsync($"v2/models/{name}/infer", StackFixture.Json("""{"inputs":[{"name":"pixels","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"""));
        var badShapeBody = await badShape.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, outOfRange.Status);
        Assert.Equal(HttpStatusCode.BadRequest, badShape.StatusCode);
        Assert.NotEqual(outOfRange.Body.TrimEnd(), badShapeBody.TrimEnd());
        Assert.Equal(outOfRange.Body.Length, badShapeBody.Length);
    }

    [StackFact]
    public async Task Job_AdversarialItemRefusedAlone_EachItemRecordsItsDefenses()
    {
        var name = await PublishAsync(DefenseMode.Shadow, DefenseMode.Enforce);
        var items = new[] { Digit, Adversarial, DigitsData.Load().Test.Row(1) }.Select(Request).ToList();

        var job = await JobClient.SubmitAsync(fixture, fixture.Gateway, $"v2/models/{name}/jobs", "{\"items\":[" + string.Join(',', items) + "]}");
        var status = await JobClient.WaitAsync(fixture.Gateway, job);

        var results = status.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["released", "invalid", "released"], results.Select(r => r.GetProperty("outcome").GetString()));
        var records = await JobClient.RecordsAsync(fixture, job);
        Assert.Equal(3, records.Count);
        var refused = records.Single(r => r.GetProperty("requestId").GetString() == job + ".1");
        Assert.True(Flagged(refused, "squeeze"));
        Assert.All(records, r => Assert.True(r.GetProperty("defenses").TryGetProperty("ood", out _)));
    }

    private static string Request(float[] pixels) =>
        $$"""{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","data":[{{string.Join(',', pixels.Select(p => p.ToString("R", CultureInfo.InvariantCulture)))}}]}]}""";

    private static bool Flagged(JsonElement record, string defense) =>
        record.GetProperty("defenses").GetProperty(defense).GetProperty("flagged").GetBoolean();

    private async Task<(HttpStatusCode Status, string Body, string RequestId)> InferAsync(string model, float[] pixels)
    {
        using var response = await fixture.Gateway.PostAsync($"v2/models/{model}/infer", StackFixture.Json(Request(pixels)));
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.GetValues("x-request-id").Single());
    }

    private async Task<Dictionary<string, JsonElement>> RecordsAsync(params string[] requestIds) =>
        (await fixture.AuditLinesAsync())
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => requestIds.Contains(r.GetProperty("requestId").GetString()))
            .ToDictionary(r => r.GetProperty("requestId").GetString()!);

    private Task<string> PublishAsync(DefenseMode ood, DefenseMode squeeze)
    {
        lock (Published)
        {
            var key = $"{fixture.State.Directory}|{ood}|{squeeze}";
            if (!Published.TryGetValue(key, out var publishing))
            {
                Published[key] = publishing = PublishCoreAsync(ood, squeeze);
            }

            return publishing;
        }
    }

    // A copy of digits with both defenses in the given modes. The squeeze threshold is set between this test digit's
    // score and its adversarial example's (from the same squeezers and model), so the test is about what the stack
    // does with a flagged input, not about the detection rate (ssctl eval defenses measures that).
    private async Task<string> PublishCoreAsync(DefenseMode oodMode, DefenseMode squeezeMode)
    {
        var directory = Path.Combine(fixture.State.Directory, "defended-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(directory);
        await File.WriteAllBytesAsync(Path.Combine(directory, "model.onnx"), DigitsSample.BuildModel());
        var squeeze = new SqueezePolicy
        {
            Input = "pixels",
            Output = "probabilities",
            InputMax = 16,
            Image = [8, 8],
            Squeezers = [new Squeezer { Kind = SqueezerKind.BitDepth, Bits = 2 }, new Squeezer { Kind = SqueezerKind.Median, Size = 2 }],
            Threshold = 0,
        };
        var cleanScore = Score(Digit, squeeze);
        var adversarialScore = Score(Adversarial, squeeze);
        Assert.True(adversarialScore > cleanScore, $"the adversarial example scores {adversarialScore}, the clean digit {cleanScore}");
        static string Wire(DefenseMode mode) => mode == DefenseMode.Enforce ? "enforce" : "shadow";
        var policy = JsonNode.Parse(SampleModels.GetPolicy(DigitsSample.Name))!.AsObject();
        policy["defenses"] = JsonNode.Parse($$"""
            {
              "ood": { "mode": "{{Wire(oodMode)}}", "input": "pixels", "percentile": 99.5 },
              "squeeze": {
                "mode": "{{Wire(squeezeMode)}}", "input": "pixels", "output": "probabilities", "inputMax": 16, "image": [8, 8],
                "squeezers": [{ "kind": "bitDepth", "bits": 2 }, { "kind": "median", "size": 2 }],
                "threshold": {{((cleanScore + adversarialScore) / 2).ToString("R", CultureInfo.InvariantCulture)}}
              }
            }
            """);
        policy["padding"] = JsonNode.Parse("""{ "buckets": [1024, 4096] }""");
        await File.WriteAllTextAsync(Path.Combine(directory, "policy.json"), policy.ToJsonString());
        var training = Path.Combine(fixture.State.Directory, "digits-train-" + Guid.NewGuid().ToString("N")[..6] + ".csv");
        await File.WriteAllLinesAsync(training, DigitsData.Load().Train.Rows().Select(r => string.Join(',', r.Select(v => v.ToString(CultureInfo.InvariantCulture)))));

        var name = $"digits-{Wire(oodMode)}-{Wire(squeezeMode)}-" + Guid.NewGuid().ToString("N")[..6];
        var publish = await Ssctl.RunAsync(fixture, "model", "publish", directory,
            "--name", name, "--version", "1", "--training-data", training, "--state", fixture.State.Directory, "--connection-string", fixture.Stack.Azurite.ConnectionString);
        Assert.True(publish.ExitCode == 0, publish.Output);
        return name;
    }

    // The request's squeeze score as the inference app computes it, from the C# forward pass of the same weights.
    private static double Score(float[] pixels, SqueezePolicy squeeze)
    {
        var batch = FeatureSqueezing.Batch(pixels, 64, squeeze);
        var predictions = Enumerable.Range(0, batch.Length / 64).SelectMany(i => DigitsSample.Weights.Probabilities(batch.AsSpan(i * 64, 64))).ToArray();
        return FeatureSqueezing.Scores(predictions, 1, 10, squeeze.Squeezers.Count)[0];
    }
}
