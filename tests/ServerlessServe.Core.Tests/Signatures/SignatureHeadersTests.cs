using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Core.Tests.Signatures;

/// <summary>Signature-Input and Signature are read strictly: exactly the gateway's profile, everything else refused.</summary>
public sealed class SignatureHeadersTests
{
    private const string Components = "(\"@method\" \"@target-uri\" \"content-digest\" \"authorization\")";
    private const string Params = ";created=1700000000;keyid=\"k1\";nonce=\"n0nce-n0nce-n0nce\"";
    private const string Input = "sig1=" + Components + Params;
    private static readonly string Signature = "sig1=:" + Convert.ToBase64String(new byte[64]) + ":";

    [Fact]
    public void Parse_TheProfile_Read()
    {
        var parsed = SignatureHeaders.Parse(Input + ";alg=\"ecdsa-p256-sha256\"", Signature);

        Assert.NotNull(parsed);
        Assert.Equal("sig1", parsed.Label);
        Assert.Equal(1700000000, parsed.Created);
        Assert.Equal("k1", parsed.KeyId);
        Assert.Equal("n0nce-n0nce-n0nce", parsed.Nonce);
        Assert.Equal(Components + Params + ";alg=\"ecdsa-p256-sha256\"", parsed.Serialized());
    }

    [Fact]
    public void Parse_ComponentsInAnotherOrderAndExtraSpaces_ReadAndReserialisedCanonically()
    {
        var parsed = SignatureHeaders.Parse("sig1=(\"authorization\"  \"@method\" \"content-digest\" \"@target-uri\")" + Params, Signature);

        Assert.NotNull(parsed);
        Assert.Equal(["authorization", "@method", "content-digest", "@target-uri"], parsed.Components);
        Assert.StartsWith("(\"authorization\" \"@method\" \"content-digest\" \"@target-uri\");created=", parsed.Serialized(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> Refused() => new()
    {
        { "two signatures", Input + ", sig2=" + Components + Params, Signature },
        { "labels differ", Input, "sig2=:" + Convert.ToBase64String(new byte[64]) + ":" },
        { "a component missing", "sig1=(\"@method\" \"@target-uri\" \"content-digest\")" + Params, Signature },
        { "an extra component", "sig1=(\"@method\" \"@target-uri\" \"content-digest\" \"authorization\" \"content-type\")" + Params, Signature },
        { "a component twice", "sig1=(\"@method\" \"@method\" \"content-digest\" \"authorization\")" + Params, Signature },
        { "a component with parameters", "sig1=(\"@method\" \"@target-uri\";sf \"content-digest\" \"authorization\")" + Params, Signature },
        { "a component as a token", "sig1=(@method \"@target-uri\" \"content-digest\" \"authorization\")" + Params, Signature },
        { "no created", "sig1=" + Components + ";keyid=\"k1\";nonce=\"n0nce-n0nce-n0nce\"", Signature },
        { "no keyid", "sig1=" + Components + ";created=1700000000;nonce=\"n0nce-n0nce-n0nce\"", Signature },
        { "no nonce", "sig1=" + Components + ";created=1700000000;keyid=\"k1\"", Signature },
        { "a short nonce", "sig1=" + Components + ";created=1700000000;keyid=\"k1\";nonce=\"short\"", Signature },
        { "created as a string", "sig1=" + Components + ";created=\"1700000000\";keyid=\"k1\";nonce=\"n0nce-n0nce-n0nce\"", Signature },
        { "created as a decimal", "sig1=" + Components + ";created=1700000000.5;keyid=\"k1\";nonce=\"n0nce-n0nce-n0nce\"", Signature },
        { "another algorithm", Input + ";alg=\"rsa-pss-sha512\"", Signature },
        { "an unknown parameter", Input + ";tag=\"x\"", Signature },
        { "a parameter twice", Input + ";created=1700000001", Signature },
        { "a key id with a slash", "sig1=" + Components + ";created=1700000000;keyid=\"a/b\";nonce=\"n0nce-n0nce-n0nce\"", Signature },
        { "an unterminated string", "sig1=" + Components + ";created=1700000000;keyid=\"k1;nonce=\"n0nce-n0nce-n0nce\"", Signature },
        { "a DER signature length", Input, "sig1=:" + Convert.ToBase64String(new byte[70]) + ":" },
        { "signature not a byte sequence", Input, "sig1=\"abc\"" },
        { "an upper-case label", "Sig1=" + Components + Params, Signature },
        { "trailing garbage", Input + " x", Signature },
        { "an inner list not closed", "sig1=(\"@method\" \"@target-uri\" \"content-digest\" \"authorization\"" + Params, Signature },
        { "an over-long input", Input + ";" + new string('a', 1100) + "=1", Signature },
        { "empty", "", Signature },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Parse_OutsideTheProfile_Null(string reason, string input, string signature) =>
        Assert.True(SignatureHeaders.Parse(input, signature) is null, reason);

    [Theory]
    [InlineData("sig1=:AAAA:", true)]
    [InlineData("a=1, b=?0, c, d=tok/en", true)]
    [InlineData("a=1,b=2", true)]
    [InlineData("a=1,,b=2", false)]
    [InlineData("a=\"\\x\"", false)]
    [InlineData("a=1234567890123456", false)]
    [InlineData("a=?2", false)]
    public void ParseDictionary_Rfc8941Subset(string text, bool valid) =>
        Assert.Equal(valid, StructuredField.ParseDictionary(text) is not null);

    [Fact]
    public void String_EscapesQuoteAndBackslash() =>
        Assert.Equal("\"a\\\"b\\\\c\"", StructuredField.String("a\"b\\c"));
}
