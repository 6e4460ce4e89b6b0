using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Fuzz;

/// <summary>
/// The fourth fuzz target: the files of a model version, read when a version is published (the admin app) and again
/// when one is loaded (the inference app). The signature over the manifest is checked before anything is parsed, so
/// only a trusted publisher's mistake reaches these parsers; it must still be refused with the verification's own
/// failure (a 400 at publish naming the check, a model that does not load), never an exception of another kind. The
/// first byte chooses the file; the rest is its bytes.
/// <list type="bullet">
/// <item><description>0: <c>manifest.json</c>. One that parses must serialise to bytes that parse back the same, and
/// serialise to the same bytes again.</description></item>
/// <item><description>1: <c>policy.json</c>: schema, strict parse, and the rules' own consistency.</description></item>
/// <item><description>2: <c>model.onnx</c>: the protobuf, external data anywhere in it, its graph's inputs and
/// outputs; then a sample policy checked against them.</description></item>
/// <item><description>3: <c>profile.json</c>, the input profile of the out-of-distribution screen.</description></item>
/// </list>
/// </summary>
public static class ArtifactTarget
{
    // The credit-risk sample's policy, checked against whatever graph a model input describes.
    private static readonly ModelPolicy SamplePolicy = PolicyLoader.Parse("""
        {"schemaVersion":1,"maxBatch":64,"inputs":{"features":{"min":0,"max":100}},"outputs":{"probabilities":{"mode":"topk","k":2,"round":3,"labels":["low","medium","high"]}},"defaultRound":3}
        """u8);

    /// <summary>Runs one input; throws only on a finding.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var file = input[1..];
        try
        {
            switch (input[0] % 4)
            {
                case 0:
                    Manifest(file);
                    break;
                case 1:
                    _ = PolicyLoader.Parse(file);
                    break;
                case 2:
                    Model(file);
                    break;
                default:
                    _ = ModelPackager.ParseProfile(file);
                    break;
            }
        }
        catch (ModelVerificationException)
        {
            // The verification's refusal: the expected answer to a bad file.
        }
        catch (PolicyException)
        {
            // The policy loader's refusal, with the JSON pointer of what it refused.
        }
    }

    private static void Manifest(ReadOnlySpan<byte> json)
    {
        var manifest = ManifestJson.Parse(json);
        var serialized = ManifestJson.Serialize(manifest);
        var again = ManifestJson.Parse(serialized);
        if (!ManifestJson.Serialize(again).AsSpan().SequenceEqual(serialized))
        {
            throw new InvalidOperationException("a manifest's serialisation reads back as another manifest");
        }
    }

    private static void Model(ReadOnlySpan<byte> bytes)
    {
        var proto = OnnxModelInspector.Parse(bytes);
        OnnxModelInspector.EnsureNoExternalData(proto);
        var (inputs, outputs) = OnnxModelInspector.Describe(proto);
        PolicyLoader.CheckAgainst(SamplePolicy, inputs, outputs);
    }
}
