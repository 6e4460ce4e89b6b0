using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ServerlessServe.Core.Tests.Identity;

/// <summary>
/// A JWT put together by hand, header and claims as JSON, so a test can make exactly the token an attacker would: any
/// <c>alg</c>, extra or missing headers and claims, any signer (or none), a payload changed after signing. Shared with
/// the integration tests' negative suite.
/// </summary>
internal sealed class ForgedToken
{
    public JsonObject Header { get; } = new() { ["typ"] = "JWT" };

    public JsonObject Payload { get; } = new();

    /// <summary>A token with <c>iss</c>, <c>aud</c>, <c>sub</c>, <c>iat</c>, <c>nbf</c> and <c>exp</c> (<paramref name="lifetime"/> from <paramref name="now"/>).</summary>
    public static ForgedToken For(string issuer, string audience, string subject, DateTimeOffset now, TimeSpan lifetime)
    {
        var token = new ForgedToken();
        token.Payload["iss"] = issuer;
        token.Payload["aud"] = audience;
        token.Payload["sub"] = subject;
        token.Payload["azp"] = "c0ffee00-0000-4000-8000-00000000f00d";
        token.Payload["iat"] = now.ToUnixTimeSeconds();
        token.Payload["nbf"] = now.ToUnixTimeSeconds();
        token.Payload["exp"] = (now + lifetime).ToUnixTimeSeconds();
        return token;
    }

    /// <summary>Sets <c>alg</c> and <c>kid</c> (a null kid leaves none).</summary>
    public ForgedToken Key(string algorithm, string? keyId)
    {
        Header["alg"] = algorithm;
        if (keyId is not null)
        {
            Header["kid"] = keyId;
        }

        return this;
    }

    /// <summary>The compact token, the signer applied to <c>base64url(header).base64url(payload)</c>.</summary>
    public string Sign(Func<byte[], byte[]> signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var signingInput = Encode(Header.ToJsonString()) + "." + Encode(Payload.ToJsonString());
        return signingInput + "." + Base64Url.EncodeToString(signer(Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>
    /// As <see cref="Sign(Func{byte[], byte[]})"/> with the payload's UTF-8 bytes passed through <paramref name="edit"/> before signing: bytes a
    /// JSON writer would never produce (ill-formed UTF-8 inside a string), in a token the issuer did sign.
    /// </summary>
    public string Sign(Func<byte[], byte[]> signer, Func<byte[], byte[]> edit)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(edit);
        var signingInput = Encode(Header.ToJsonString()) + "." + Base64Url.EncodeToString(edit(Encoding.UTF8.GetBytes(Payload.ToJsonString())));
        return signingInput + "." + Base64Url.EncodeToString(signer(Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>For <see cref="Sign(Func{byte[], byte[]}, Func{byte[], byte[]})"/>: the first <c>@@</c> of the payload made ill-formed UTF-8 (a lead byte, then <c>A</c>).</summary>
    public static byte[] IllFormedUtf8(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var at = payload.AsSpan().IndexOf("@@"u8);
        payload[at] = 0xC2;
        payload[at + 1] = (byte)'A';
        return payload;
    }

    public static Func<byte[], byte[]> With(ECDsa key) => data => key.SignData(data, HashAlgorithmName.SHA256);

    public static Func<byte[], byte[]> With(RSA key) => data => key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    public static Func<byte[], byte[]> Hmac(byte[] secret) => data => HMACSHA256.HashData(secret, data);

    /// <summary>No signature at all (<c>alg: none</c>).</summary>
    public static Func<byte[], byte[]> Unsigned { get; } = _ => [];

    /// <summary><paramref name="token"/> with <paramref name="claim"/> of its payload replaced after signing, the signature kept.</summary>
    public static string Altered(string token, string claim, string value)
    {
        var parts = token.Split('.');
        var payload = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject();
        payload[claim] = value;
        parts[1] = Encode(payload.ToJsonString());
        return string.Join('.', parts);
    }

    private static string Encode(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
}
