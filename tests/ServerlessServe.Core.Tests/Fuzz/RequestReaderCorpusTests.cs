using ServerlessServe.Fuzz;

namespace ServerlessServe.Core.Tests.Fuzz;

/// <summary>
/// The coverage-guided fuzz target's seed corpus and every input it ever found (tools/ServerlessServe.Fuzz/corpus),
/// replayed through the same target without AFL: each must be read or refused, never throw anything else, and give
/// the same outcome with its numbers read token by token.
/// </summary>
public class RequestReaderCorpusTests
{
    public static TheoryData<string> Inputs => new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fuzz-corpus"), "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(AppContext.BaseDirectory, f)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void CorpusInput_ReadOrRefused(string input) =>
        RequestReaderTarget.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, input)));

    [Fact]
    public void Corpus_HasTheSeeds() =>
        Assert.True(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fuzz-corpus"), "*", SearchOption.AllDirectories).Length >= 8);
}
