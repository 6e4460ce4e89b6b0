using ServerlessServe.Core.Tests.Protocol;
using ServerlessServe.Fuzz;

namespace ServerlessServe.Core.Tests.Fuzz;

/// <summary>
/// The coverage-guided fuzz target's seed corpus and every input it ever found (tools/ServerlessServe.Fuzz/corpus),
/// replayed through the same target without AFL: each must be read or refused, never throw anything else.
/// </summary>
public class RequestReaderCorpusTests
{
    public static TheoryData<string> Inputs => new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fuzz-corpus"), "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(AppContext.BaseDirectory, f)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void CorpusInput_ReadOrRefused(string input) =>
        RequestReaderTarget.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, input)));

    /// <summary>
    /// Each input, decoded as the target decodes it, gives the same tensors or the same refusal whether numbers are read
    /// from the bytes or token by token (docs/performance.md, "JSON numbers read from the bytes").
    /// </summary>
    [Theory]
    [MemberData(nameof(Inputs))]
    public void CorpusInput_SameFromTheBytesAsTokenByToken(string input)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, input));
        if (bytes.Length == 0)
        {
            return;
        }

        int? headerLength = null;
        var body = bytes[1..];
        if ((bytes[0] & 1) == 1 && body.Length >= 2)
        {
            headerLength = body[0] | (body[1] << 8);
            body = body[2..];
        }

        V2JsonNumberArrayTests.SameAsTokenByToken(body, headerLength);
    }

    [Fact]
    public void Corpus_HasTheSeeds() =>
        Assert.True(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fuzz-corpus"), "*", SearchOption.AllDirectories).Length >= 8);
}
