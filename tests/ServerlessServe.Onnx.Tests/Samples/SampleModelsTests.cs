using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Local.Samples;
using ServerlessServe.Onnx.Tests.Inference;

namespace ServerlessServe.Onnx.Tests.Samples;

public sealed class SampleModelsTests
{
    [Fact]
    public void BuildModel_Twice_SameBytes()
    {
        Assert.Equal(CreditRiskSample.BuildModel(), CreditRiskSample.BuildModel());
        Assert.Equal(CustomerNotesSample.BuildModel(), CustomerNotesSample.BuildModel());
        Assert.Equal(DigitsSample.BuildModel(), DigitsSample.BuildModel());
    }

    [Fact]
    public async Task CreditRisk_TrainedModel_ClassifiesHeldOutDataWell()
    {
        using var cache = InferenceTestModels.NewCache();
        var model = await InferenceTestModels.CreditRiskAsync(cache);
        var (features, labels) = CreditRiskSample.GenerateDataset(perClass: 200, seed: 7);

        var outputs = await new OnnxModelRunner(new FakeLogger<OnnxModelRunner>()).RunAsync(model, [new Tensor("features", TensorDataType.Fp32, [labels.Length, 4], features)], null, default);

        var probabilities = outputs.Single().As<float>();
        var correct = Enumerable.Range(0, labels.Length)
            .Count(r => Enumerable.Range(0, 3).MaxBy(c => probabilities[(r * 3) + c]) == labels[r]);
        Assert.True(correct > 0.9 * labels.Length, $"accuracy {correct}/{labels.Length}");
    }

    [Fact]
    public async Task ResNet18_WithDynamicBatch_EachRowOfABatchGivesWhatItGivesAlone()
    {
        var pinned = await ResNet18Sample.ReadVerifiedAsync(ResNet18Sample.Find() ?? throw new InvalidOperationException("restore the NuGet packages"));
        var rebatched = ResNet18Sample.WithDynamicBatch(pinned);
        Assert.Equal(rebatched, ResNet18Sample.WithDynamicBatch(pinned));

        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(rebatched);
        Assert.Equal(-1, session.InputMetadata[ResNet18Sample.InputName].Dimensions[0]);
        Assert.Equal(-1, session.OutputMetadata[ResNet18Sample.OutputName].Dimensions[0]);
        const int Rows = 3;
        const int Pixels = 3 * 224 * 224;
        var images = new float[Rows * Pixels];
        for (var i = 0; i < images.Length; i++)
        {
            images[i] = ((i * 7919) % 2001) - 1000f;
        }

        var batch = Run(session, images, Rows);
        Assert.Equal(Rows * 512, batch.Length);
        for (var row = 0; row < Rows; row++)
        {
            var alone = Run(session, images.AsSpan(row * Pixels, Pixels).ToArray(), 1);
            Assert.Equal(alone, batch.AsSpan(row * 512, 512).ToArray());
        }

        static float[] Run(Microsoft.ML.OnnxRuntime.InferenceSession session, float[] images, int rows)
        {
            using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(images, [rows, 3, 224, 224]);
            using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
            using var outputs = session.Run(runOptions, [ResNet18Sample.InputName], [input], [ResNet18Sample.OutputName]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
    }

    [Fact]
    public void WithDynamicBatch_ModelThatMixesRows_Refused()
    {
        Assert.Throws<InvalidDataException>(() => ResNet18Sample.WithDynamicBatch(DigitsSample.BuildModel()));
    }

    [Fact]
    public void CustomerNotes_HoldEveryKindOfPersonalData()
    {
        var text = string.Join("\n", CustomerNotesSample.Notes);

        Assert.Matches(@"[a-z.]+@example\.(com|org)", text);
        Assert.Matches(@"\b\d{3}-\d{2}-\d{4}\b", text);
        Assert.Matches(@"\b(?:\d{1,3}\.){3}\d{1,3}\b", text);
        Assert.Contains("2001:db8::", text, StringComparison.Ordinal);
        Assert.Contains("+1 202-555-0143", text, StringComparison.Ordinal);
        foreach (Match card in Regex.Matches(text, @"\b(?:\d{4}[ -]){3}\d{4}\b"))
        {
            Assert.True(Luhn(card.Value.Where(char.IsAsciiDigit).Select(c => c - '0').ToArray()), "card numbers are Luhn-valid test numbers");
        }

        var iban = Regex.Match(text, @"\bGB\d{2}(?: ?[A-Z0-9]{4}){4}(?: ?[A-Z0-9]{1,2})\b").Value.Replace(" ", string.Empty, StringComparison.Ordinal);
        Assert.Equal(1, Mod97(iban));
    }

    [Fact]
    public async Task WriteAllAsync_WritesEverySampleThatPackages()
    {
        var folder = Directory.CreateTempSubdirectory("ss-samples-").FullName;
        try
        {
            var first = await SampleModels.WriteAllAsync(folder);
            var bytes = first.Select(s => File.ReadAllBytes(Path.Combine(s.Directory, "model.onnx"))).ToList();
            var second = await SampleModels.WriteAllAsync(folder);

            Assert.Equal([CreditRiskSample.Name, CustomerNotesSample.Name, DigitsSample.Name, ResNet18Sample.Name], first.Select(s => s.Name));
            Assert.Equal(bytes, second.Select(s => File.ReadAllBytes(Path.Combine(s.Directory, "model.onnx"))));
            foreach (var sample in first)
            {
                Assert.Equal(Path.Combine(folder, sample.Name, "1"), sample.Directory);
                var package = await ModelPackager.PackDirectoryAsync(sample.Directory, sample.Name, sample.Version, TestPackages.Signer, TestPackages.Created);
                Assert.Equal(sample.Name, package.Manifest.Name);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task WriteAllAsync_WithoutResNet_TheSmallSamplesOnly_NothingOfResNetWritten()
    {
        var folder = Directory.CreateTempSubdirectory("ss-samples-").FullName;
        try
        {
            var written = await SampleModels.WriteAllAsync(folder, includeResNet: false);

            Assert.Equal([CreditRiskSample.Name, CustomerNotesSample.Name, DigitsSample.Name], written.Select(s => s.Name));
            Assert.False(Directory.Exists(Path.Combine(folder, ResNet18Sample.Name)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static bool Luhn(int[] digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i];
            if (i % 2 == 1)
            {
                d = d * 2 > 9 ? (d * 2) - 9 : d * 2;
            }

            sum += d;
        }

        return sum % 10 == 0;
    }

    private static int Mod97(string iban)
    {
        var rearranged = iban[4..] + iban[..4];
        var remainder = 0;
        foreach (var c in rearranged)
        {
            var value = char.IsAsciiDigit(c) ? c - '0' : c - 'A' + 10;
            remainder = ((remainder * (value >= 10 ? 100 : 10)) + value) % 97;
        }

        return remainder;
    }
}
