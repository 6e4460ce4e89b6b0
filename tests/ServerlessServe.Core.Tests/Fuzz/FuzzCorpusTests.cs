using System.Text;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Fuzz;

namespace ServerlessServe.Core.Tests.Fuzz;

/// <summary>
/// The corpora of the headers, audit, artifact and jobs fuzz targets (tools/ServerlessServe.Fuzz/corpus/TARGET): their
/// seeds, the paths AFL++ found and every input a target ever failed on, replayed through the same targets without AFL.
/// Each input must be read or refused without an exception, and every property the target checks must hold. (The request
/// reader's corpus has its own class, <see cref="RequestReaderCorpusTests"/>.)
/// </summary>
public class FuzzCorpusTests
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "fuzz-corpus");

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in (string[])["headers", "audit", "artifact", "jobs"])
        {
            foreach (var file in Directory.GetFiles(Path.Combine(Corpus, target)).Order(StringComparer.Ordinal))
            {
                data.Add(target, Path.GetFileName(file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void CorpusInput_ReadOrRefused_PropertiesHold(string target, string input) =>
        FuzzTargets.All[target](File.ReadAllBytes(Path.Combine(Corpus, target, input)));

    [Fact]
    public void HeadersCorpus_HasSignaturesAndTokens()
    {
        var kinds = Directory.GetFiles(Path.Combine(Corpus, "headers")).Select(f => File.ReadAllBytes(f)[0] & 1).ToHashSet();

        Assert.Equal([0, 1], kinds.Order());
    }

    [Fact]
    public void AuditCorpus_HasEveryDocument()
    {
        var kinds = Directory.GetFiles(Path.Combine(Corpus, "audit")).Select(f => File.ReadAllBytes(f)[0] % 5).ToHashSet();

        Assert.Equal([0, 1, 2, 3, 4], kinds.Order());
    }

    [Fact]
    public void ArtifactCorpus_HasEveryFile()
    {
        var kinds = Directory.GetFiles(Path.Combine(Corpus, "artifact")).Select(f => File.ReadAllBytes(f)[0] % 4).ToHashSet();

        Assert.Equal([0, 1, 2, 3], kinds.Order());
    }

    [Fact]
    public void ArtifactSeeds_ReadWhole_SoThePropertiesPastTheParse()
    {
        // A manifest, the credit-risk model (which its sample policy fits) and a profile that each read in full, so the
        // fuzzer starts from inputs that reach the round trip and the policy check.
        byte[] File(string name) => System.IO.File.ReadAllBytes(Path.Combine(Corpus, "artifact", name))[1..];

        Assert.Equal("credit-risk", Core.Artifacts.ManifestJson.Parse(File("seed-manifest-0")).Name);
        var (inputs, outputs) = Core.Artifacts.OnnxModelInspector.Describe(Core.Artifacts.OnnxModelInspector.Parse(File("seed-model-2")));
        Core.Policy.PolicyLoader.CheckAgainst(Core.Policy.PolicyLoader.Parse(File("seed-policy-1")), inputs, outputs);
        Assert.Equal(2, Core.Artifacts.ModelPackager.ParseProfile(File("seed-profile-9")).Features);
    }

    [Fact]
    public void JobsSeeds_SplitAndRead_SoThePropertiesPastTheSplit()
    {
        // A bare request and a wrapper whose items all read, so the fuzzer starts from inputs that reach the comparison
        // with infer and the second wrap.
        var limits = new ProtocolLimits();
        var items = JobItems.Split(File.ReadAllBytes(Path.Combine(Corpus, "jobs", "items-three")), 64, limits.MaxJsonDepth);

        Assert.Equal(3, items.Count);
        Assert.All(items, i => V2Json.ReadRequest(Encoding.UTF8.GetBytes(i), null, limits));
        Assert.Single(JobItems.Split(File.ReadAllBytes(Path.Combine(Corpus, "jobs", "one-fp32")), 64, limits.MaxJsonDepth));
    }

    [Fact]
    public void SignedSeed_ReadsAsASignature_SoTheSignatureProperties()
    {
        // Without one seed that holds the profile, the fuzzer would have to find one before the properties of a read
        // signature were ever checked.
        var lines = Encoding.Latin1.GetString(File.ReadAllBytes(Path.Combine(Corpus, "headers", "seed-signed"))[1..]).Split('\n', 4);

        Assert.NotNull(SignatureHeaders.Parse(lines[0], lines[1]));
        Assert.True(ContentDigest.Matches(lines[2], Encoding.Latin1.GetBytes(lines[3])));
    }
}
