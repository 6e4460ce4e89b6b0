namespace ServerlessServe.Core.Tests.Signatures;

/// <summary>Published test values: RFC 9421 Appendix B (test-key-ecc-p256, B.2.4) and RFC 9530's content-digest example.</summary>
internal static class Rfc9421Vectors
{
    /// <summary>RFC 9421 B.1.3, test-key-ecc-p256, public half.</summary>
    public const string EccP256PublicKeyPem = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf
        w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==
        -----END PUBLIC KEY-----
        """;

    /// <summary>RFC 9421 B.2.4: the test response's body, and its Content-Digest (sha-512).</summary>
    public const string ResponseBody = """{"message": "good dog"}""";

    public const string ResponseDigest = "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:";

    /// <summary>RFC 9421 B.2.4: Signature-Input and Signature of the response, signed with test-key-ecc-p256.</summary>
    public const string B24SignatureInput = """sig-b24=("@status" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-ecc-p256" """;

    public const string B24Signature = "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==:";

    /// <summary>RFC 9530 §2 example body and its sha-256 digest.</summary>
    public const string HelloBody = """{"hello": "world"}""";

    public const string HelloSha256 = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
}
