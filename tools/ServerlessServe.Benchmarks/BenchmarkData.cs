using System.Text;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// Realistic, deterministic inputs shared by the benchmarks: the sample models' shapes and policies, with values drawn
/// from a fixed seed so every run measures the same bytes.
/// </summary>
internal static class BenchmarkData
{
    /// <summary>Elements of one preprocessed ResNet18 image, FP32 [1, 3, 224, 224] (150,528).</summary>
    public const int ImageElements = 3 * 224 * 224;

    public static long[] ImageShape => [1, 3, 224, 224];

    /// <summary>The sample's real policy (samples/{model}/policy.json), parsed and checked as the platform does.</summary>
    public static ModelPolicy Policy(string model) => PolicyLoader.Parse(SampleModels.GetPolicy(model));

    /// <summary>Normalised pixels as a preprocessing step produces them (per-channel mean/std): roughly -2.1 to 2.6.</summary>
    public static Tensor Image(uint seed = 1)
    {
        var random = new Xorshift(seed);
        var pixels = new float[ImageElements];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (random.NextSingle() * 4.7f) - 2.1f;
        }

        return new Tensor(ResNet18Sample.InputName, TensorDataType.Fp32, ImageShape, pixels);
    }

    /// <summary>ResNet18's output: 512 non-negative pooled features, FP32 [1, 512, 1, 1].</summary>
    public static Tensor ResNetFeatures(uint seed = 2)
    {
        var random = new Xorshift(seed);
        var features = new float[512];
        for (var i = 0; i < features.Length; i++)
        {
            features[i] = random.NextSingle() * 3f;
        }

        return new Tensor(ResNet18Sample.OutputName, TensorDataType.Fp32, [1, 512, 1, 1], features);
    }

    /// <summary><paramref name="rows"/> credit-risk feature rows, FP32 [rows, 4], within the policy's 0..100 range.</summary>
    public static Tensor CreditRiskFeatures(int rows, uint seed = 3)
    {
        var random = new Xorshift(seed);
        var values = new float[rows * CreditRiskSample.FeatureCount];
        for (var r = 0; r < rows; r++)
        {
            values[(r * 4) + 0] = random.NextSingle() * 0.9f; // debt to income
            values[(r * 4) + 1] = random.NextSingle(); // credit utilisation
            values[(r * 4) + 2] = MathF.Floor(random.NextSingle() * 8f); // late payments, last 12 months
            values[(r * 4) + 3] = MathF.Floor(random.NextSingle() * 25f); // years of credit history
        }

        return new Tensor(CreditRiskSample.InputName, TensorDataType.Fp32, [rows, CreditRiskSample.FeatureCount], values);
    }

    /// <summary>What the credit-risk model returns for <paramref name="rows"/> rows: FP32 [rows, 3], each row summing to 1.</summary>
    public static Tensor CreditRiskProbabilities(int rows, uint seed = 4)
    {
        var random = new Xorshift(seed);
        var values = new float[rows * CreditRiskSample.ClassCount];
        for (var r = 0; r < rows; r++)
        {
            var a = random.NextSingle() + 0.01f;
            var b = random.NextSingle() + 0.01f;
            var c = random.NextSingle() + 0.01f;
            var total = a + b + c;
            values[(r * 3) + 0] = a / total;
            values[(r * 3) + 1] = b / total;
            values[(r * 3) + 2] = c / total;
        }

        return new Tensor(CreditRiskSample.OutputName, TensorDataType.Fp32, [rows, CreditRiskSample.ClassCount], values);
    }

    /// <summary>Customer ids 0..8 repeated, INT64 [count]: the customer-notes model's input.</summary>
    public static Tensor CustomerIds(int count)
    {
        var ids = new long[count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = i % CustomerNotesSample.Notes.Count;
        }

        return new Tensor(CustomerNotesSample.InputName, TensorDataType.Int64, [count], ids);
    }

    /// <summary>
    /// The customer-notes model's output for <see cref="CustomerIds"/>: BYTES [count] of the stored notes, which between
    /// them hold every entity kind (e-mail, card, IBAN, SSN, phone, IPv4, IPv6) and one note with none.
    /// </summary>
    public static Tensor CustomerNotes(int count)
    {
        var notes = new byte[count][];
        for (var i = 0; i < notes.Length; i++)
        {
            notes[i] = Encoding.UTF8.GetBytes(CustomerNotesSample.Notes[i % CustomerNotesSample.Notes.Count]);
        }

        return new Tensor(CustomerNotesSample.OutputName, TensorDataType.Bytes, [count], notes);
    }

    /// <summary>A small xorshift generator: fixed values across runs and runtimes, unlike <see cref="Random"/>'s unseeded use.</summary>
    private struct Xorshift(uint seed)
    {
        private uint _state = seed == 0 ? 0x9E3779B9u : seed;

        public float NextSingle()
        {
            _state ^= _state << 13;
            _state ^= _state >> 17;
            _state ^= _state << 5;
            return (_state >> 8) * (1f / (1 << 24));
        }
    }
}
