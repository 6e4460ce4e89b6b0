using System.Text;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Fuzz;

namespace ServerlessServe.Core.Tests.Fuzz;

/// <summary>
/// The corpora of the headers and audit fuzz targets (tools/ServerlessServe.Fuzz/corpus/headers and corpus/audit): their
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
        foreach (var target in (string[])["headers", "audit"])
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
    public void CorpusInput_ReadOrRefused_PropertiesHold(string target, string input)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Corpus, target, input));
        if (target == "headers")
        {
            HeadersTarget.Run(bytes);
        }
        else
        {
            AuditTarget.Run(bytes);
        }
    }

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
    public void SignedSeed_ReadsAsASignature_SoTheSignatureProperties()
    {
        // Without one seed that holds the profile, the fuzzer would have to find one before the properties of a read
        // signature were ever checked.
        var lines = Encoding.Latin1.GetString(File.ReadAllBytes(Path.Combine(Corpus, "headers", "seed-signed"))[1..]).Split('\n', 4);

        Assert.NotNull(SignatureHeaders.Parse(lines[0], lines[1]));
        Assert.True(ContentDigest.Matches(lines[2], Encoding.Latin1.GetBytes(lines[3])));
    }
}
