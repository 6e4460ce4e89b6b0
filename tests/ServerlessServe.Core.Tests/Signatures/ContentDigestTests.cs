using System.Text;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Core.Tests.Protocol;

namespace ServerlessServe.Core.Tests.Signatures;

public sealed class ContentDigestTests
{
    private static readonly byte[] Hello = Encoding.UTF8.GetBytes(Rfc9421Vectors.HelloBody);

    [Fact]
    public void Compute_Rfc9530Example_MatchesThePublishedDigest() =>
        Assert.Equal(Rfc9421Vectors.HelloSha256, ContentDigest.Compute(Hello));

    [Fact]
    public void Matches_Rfc9530Example_True() =>
        Assert.True(ContentDigest.Matches(Rfc9421Vectors.HelloSha256, Hello));

    [Fact]
    public void Matches_Sha256AndTheRfc9421Sha512_BothChecked()
    {
        var body = Encoding.UTF8.GetBytes(Rfc9421Vectors.ResponseBody);
        var both = ContentDigest.Compute(body) + ", " + Rfc9421Vectors.ResponseDigest;

        Assert.True(ContentDigest.Matches(both, body));
        Assert.False(ContentDigest.Matches(ContentDigest.Compute(body) + ", " + Rfc9421Vectors.ResponseDigest.Replace("mEWX", "mEWY", StringComparison.Ordinal), body));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(1_000)]
    public void Matches_BodyInSeveralBuffers_AsOverTheJoinedBytes(int maxPiece)
    {
        // The gateway keeps a binary body in the buffers it arrived in and hashes it there.
        var body = Encoding.UTF8.GetBytes(Rfc9421Vectors.ResponseBody);
        var both = ContentDigest.Compute(body) + ", " + Rfc9421Vectors.ResponseDigest;
        var split = Segments.Split(body, seed: maxPiece, maxPiece);

        Assert.True(ContentDigest.Matches(both, split));
        Assert.False(ContentDigest.Matches(ContentDigest.Compute(body) + ", " + Rfc9421Vectors.ResponseDigest.Replace("mEWX", "mEWY", StringComparison.Ordinal), split));
        Assert.False(ContentDigest.Matches(Rfc9421Vectors.HelloSha256, split));
        Assert.True(ContentDigest.Matches(Rfc9421Vectors.HelloSha256, Segments.Split(Hello, seed: maxPiece, maxPiece)));
        foreach (var row in Refused())
        {
            Assert.False(ContentDigest.Matches((string)row[1], Segments.Split(Hello, seed: maxPiece, maxPiece)), (string)row[0]);
        }
    }

    public static TheoryData<string, string> Refused() => new()
    {
        { "only sha-512 (sha-256 is required)", Rfc9421Vectors.ResponseDigest },
        { "the digest of another body", ContentDigest.Compute("{\"hello\": \"World\"}"u8) },
        { "a string, not a byte sequence", "sha-256=\"X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\"" },
        { "truncated digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9D:" },
        { "not base64", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDU*yWxBf7kbu9DBPE=:" },
        { "upper-case algorithm", "SHA-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:" },
        { "trailing comma", Rfc9421Vectors.HelloSha256 + "," },
        { "the same algorithm twice", Rfc9421Vectors.HelloSha256 + ", " + Rfc9421Vectors.HelloSha256 },
        { "empty", "" },
        { "longer than the limit", Rfc9421Vectors.HelloSha256 + ", " + string.Join(", ", Enumerable.Range(0, 40).Select(i => $"x{i}=:AAAA:")) },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Matches_Malformed_False(string reason, string header) =>
        Assert.False(ContentDigest.Matches(header, Hello), reason);

    [Fact]
    public void Matches_UnknownAlgorithmBesideSha256_Ignored() =>
        Assert.True(ContentDigest.Matches("unixsum=:AAAA:, " + Rfc9421Vectors.HelloSha256, Hello));
}
