using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Core.Tests.Signatures;

public sealed class SignatureBaseTests
{
    [Fact]
    public void Build_Rfc9421B24_BaseVerifiesWithTheTestKey()
    {
        // B.2.4 signs a response (@status), which the gateway never verifies; the base's shape, the parameters'
        // serialisation as parsed, and the raw r||s ECDSA form are what it shares with requests.
        var input = StructuredField.ParseDictionary(Rfc9421Vectors.B24SignatureInput.Trim())!.Single();
        var signature = (byte[])StructuredField.ParseDictionary(Rfc9421Vectors.B24Signature)!.Single().Item!.Value;
        var parameters = new SignatureParameters(input.Key, input.InnerList!.Select(i => (string)i.Value).ToList(), input.Parameters, 1618884473, null, "test-key-ecc-p256", "unused-nonce-000", signature);

        var signatureBase = SignatureBase.Build(
            [("@status", "200"), ("content-type", "application/json"), ("content-digest", Rfc9421Vectors.ResponseDigest), ("content-length", "23")],
            parameters.Serialized());

        Assert.Equal(
            "\"@status\": 200\n\"content-type\": application/json\n\"content-digest\": " + Rfc9421Vectors.ResponseDigest + "\n\"content-length\": 23\n"
            + "\"@signature-params\": (\"@status\" \"content-type\" \"content-digest\" \"content-length\");created=1618884473;keyid=\"test-key-ecc-p256\"",
            signatureBase);
        using var key = ECDsa.Create();
        key.ImportFromPem(Rfc9421Vectors.EccP256PublicKeyPem);
        Assert.Equal(64, signature.Length);
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes(signatureBase!), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.False(key.VerifyData(Encoding.ASCII.GetBytes(signatureBase!.Replace("200", "201", StringComparison.Ordinal)), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void Sign_RequestProfile_BaseHasTheFourComponentsThenTheParameters()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var created = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

        var headers = RequestSigner.Sign(key, "k1", "post", "https://serving.example/api/v2/models/m/infer", Encoding.UTF8.GetBytes(Rfc9421Vectors.HelloBody), "Bearer abc", created, "AAAAAAAAAAAAAAAAAAAAAA");

        Assert.Equal(Rfc9421Vectors.HelloSha256, headers.ContentDigest);
        Assert.Equal(
            "sig1=(\"@method\" \"@target-uri\" \"content-digest\" \"authorization\");created=1700000000;keyid=\"k1\";nonce=\"AAAAAAAAAAAAAAAAAAAAAA\";alg=\"ecdsa-p256-sha256\"",
            headers.SignatureInput);
        var parsed = SignatureHeaders.Parse(headers.SignatureInput, headers.Signature)!;
        var expectedBase =
            "\"@method\": POST\n\"@target-uri\": https://serving.example/api/v2/models/m/infer\n\"content-digest\": " + Rfc9421Vectors.HelloSha256 + "\n"
            + "\"authorization\": Bearer abc\n\"@signature-params\": " + headers.SignatureInput["sig1=".Length..];
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes(expectedBase), parsed.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void Build_ValueWithANewline_Null() =>
        Assert.Null(SignatureBase.Build([("authorization", "Bearer a\n\"@method\": GET")], "()"));

    [Fact]
    public void FieldValue_SeveralLines_TrimmedAndJoined() =>
        Assert.Equal("a, b", SignatureBase.FieldValue([" a ", "b\t"]));
}
