using System.Text;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Fuzz;

namespace ServerlessServe.Core.Tests.Fuzz;

/// <summary>
/// The headers fuzz target's seed corpus and every input it ever found (tools/ServerlessServe.Fuzz/corpus/headers),
/// replayed through the same target without AFL: each signature, digest and token must be read or refused, never throw,
/// and every property the target checks must hold.
/// </summary>
public class HeadersCorpusTests
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "fuzz-corpus", "headers");

    public static TheoryData<string> Inputs => new(Directory.GetFiles(Corpus, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(AppContext.BaseDirectory, f)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void CorpusInput_ReadOrRefused_PropertiesHold(string input) =>
        HeadersTarget.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, input)));

    [Fact]
    public void Corpus_HasSignaturesAndTokens()
    {
        var kinds = Directory.GetFiles(Corpus).Select(f => File.ReadAllBytes(f)[0] & 1).ToList();

        Assert.Contains(0, kinds);
        Assert.Contains(1, kinds);
    }

    [Fact]
    public void SignedSeed_ReadsAsASignature_SoTheSignatureProperties()
    {
        // Without one seed that holds the profile, the fuzzer would have to find one before the properties of a read
        // signature were ever checked.
        var lines = Encoding.Latin1.GetString(File.ReadAllBytes(Path.Combine(Corpus, "seed-signed"))[1..]).Split('\n', 4);

        Assert.NotNull(SignatureHeaders.Parse(lines[0], lines[1]));
        Assert.True(ContentDigest.Matches(lines[2], Encoding.Latin1.GetBytes(lines[3])));
    }
}
