using ServerlessServe.Fuzz;

namespace ServerlessServe.Core.Tests.Fuzz;

/// <summary>
/// The request reader fuzz target's seed corpus and every input it ever found (tools/ServerlessServe.Fuzz/corpus/request),
/// replayed through the same target without AFL: each must be read or refused, never throw anything else, and give
/// the same outcome with its numbers read token by token.
/// </summary>
public class RequestReaderCorpusTests
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "fuzz-corpus", "request");

    public static TheoryData<string> Inputs => new(Directory.GetFiles(Corpus, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(AppContext.BaseDirectory, f)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void CorpusInput_ReadOrRefused(string input) =>
        RequestReaderTarget.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, input)));

    [Fact]
    public void Corpus_HasTheSeeds() =>
        Assert.True(Directory.GetFiles(Corpus, "*", SearchOption.AllDirectories).Length >= 8);
}
