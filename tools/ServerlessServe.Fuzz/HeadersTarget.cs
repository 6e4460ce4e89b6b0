using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Fuzz;

/// <summary>
/// The second fuzz target: what the gateway reads from a caller's headers before it knows who the caller is. The first
/// byte chooses the part; the rest, one byte a character (Latin-1, as a header can carry), is its input.
/// <list type="bullet">
/// <item><description>Even: a signed request. The rest is split at its first three line feeds into
/// <c>Signature-Input</c>, <c>Signature</c>, <c>Content-Digest</c> and the body. Each header is read as an RFC 8941
/// dictionary: one that reads must read back the same from its canonical serialisation, and serialise to the same text
/// again. A signature that reads must hold the gateway's profile, and its <c>@signature-params</c> (what the verifier
/// signs over) must be the canonical serialisation of what was received and read back as the same signature. The digest
/// must give the same answer over the body in one piece and in two. The whole check then runs against a fixed key: it
/// must refuse, since nobody here holds that key.</description></item>
/// <item><description>Odd: a bearer token, through the screen every token passes before a key is looked up, then the
/// lifetime check and the caller's identity.</description></item>
/// </list>
/// A refusal is the expected outcome; any exception is a finding, and so is a property that does not hold.
/// </summary>
public static class HeadersTarget
{
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    private static readonly string[] Algorithms = ["ES256", "RS256"];

    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    // A key nobody holds: a signature that verifies with it is a forgery, so a finding.
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>Runs one input; throws only on a finding.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var text = Encoding.Latin1.GetString(input[1..]);
        if ((input[0] & 1) == 0)
        {
            Signed(text);
        }
        else
        {
            Token(text);
        }
    }

    private static void Signed(string text)
    {
        var parts = text.Split('\n', 4);
        var signatureInput = parts[0];
        var signature = parts.Length > 1 ? parts[1] : null;
        var contentDigest = parts.Length > 2 ? parts[2] : null;
        var body = Encoding.Latin1.GetBytes(parts.Length > 3 ? parts[3] : string.Empty);
        foreach (var header in (string?[])[signatureInput, signature, contentDigest])
        {
            if (header is not null)
            {
                RoundTrip(header);
            }
        }

        // The digest over the body as one buffer and as two (a body kept in the buffers it arrived in).
        var whole = ContentDigest.Matches(contentDigest, body);
        var split = ContentDigest.Matches(contentDigest, Segments(body, body.Length / 3));
        if (whole != split)
        {
            throw new InvalidOperationException("Content-Digest matches the body in one buffer and not in two, or the reverse");
        }

        if (SignatureHeaders.Parse(signatureInput, signature) is not { } parameters)
        {
            return;
        }

        Profile(parameters, signatureInput, signature!);
        var request = new SignedRequest("POST", "http", "127.0.0.1:7071", "/api/v2/models/m/infer", signatureInput, signature, contentDigest, "Bearer t");
        var outcome = SignatureVerifier.CheckContent(request, parameters, new ReadOnlySequence<byte>(body), Key, null);
        if (outcome == SignatureFailure.None)
        {
            throw new InvalidOperationException("a signature verified with a key nobody holds");
        }
    }

    /// <summary>A signature that reads holds the profile and is signed over the canonical form of what was received.</summary>
    private static void Profile(SignatureParameters parameters, string signatureInput, string signature)
    {
        if (parameters.Signature.Length != 64
            || parameters.Created <= 0
            || !SignatureHeaders.IsValidKeyId(parameters.KeyId)
            || !SignatureHeaders.IsValidNonce(parameters.Nonce)
            || !parameters.Components.Order(StringComparer.Ordinal).SequenceEqual(SignatureHeaders.RequiredComponents.Order(StringComparer.Ordinal)))
        {
            throw new InvalidOperationException("a signature that reads does not hold the gateway's profile");
        }

        var serialized = parameters.Serialized();
        var member = StructuredField.ParseDictionary(signatureInput)![0];
        if (!string.Equals(parameters.Label + "=" + serialized, Serialize(member), StringComparison.Ordinal))
        {
            throw new InvalidOperationException("@signature-params is not the canonical serialisation of Signature-Input");
        }

        var again = SignatureHeaders.Parse(parameters.Label + "=" + serialized, signature)
            ?? throw new InvalidOperationException("@signature-params does not read back as a signature");
        if (again.Label != parameters.Label
            || !again.Components.SequenceEqual(parameters.Components)
            || again.Created != parameters.Created
            || again.Expires != parameters.Expires
            || again.KeyId != parameters.KeyId
            || again.Nonce != parameters.Nonce
            || !string.Equals(again.Serialized(), serialized, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("@signature-params reads back as another signature");
        }
    }

    /// <summary>A dictionary that reads reads back the same from its canonical serialisation, which is a fixed point.</summary>
    private static void RoundTrip(string header)
    {
        if (StructuredField.ParseDictionary(header) is not { } members)
        {
            return;
        }

        var serialized = string.Join(", ", members.Select(Serialize));
        var again = StructuredField.ParseDictionary(serialized)
            ?? throw new InvalidOperationException("a dictionary's canonical serialisation does not read");
        if (!string.Equals(Describe(members), Describe(again), StringComparison.Ordinal))
        {
            throw new InvalidOperationException("a dictionary reads back as another from its canonical serialisation");
        }

        if (!string.Equals(string.Join(", ", again.Select(Serialize)), serialized, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("a dictionary's canonical serialisation is not a fixed point");
        }
    }

    /// <summary>RFC 8941 §4.1.2's serialisation of one member (a true item as its bare key).</summary>
    private static string Serialize(SfMember member)
    {
        if (member.InnerList is { } list)
        {
            return member.Key + "=(" + string.Join(' ', list.Select(i => StructuredField.BareItem(i.Value) + StructuredField.Parameters(i.Parameters))) + ")"
                + StructuredField.Parameters(member.Parameters);
        }

        var item = member.Item ?? throw new InvalidOperationException("a member with neither an item nor an inner list");
        var parameters = StructuredField.Parameters(item.Parameters.Concat(member.Parameters));
        return item.Value is true ? member.Key + parameters : member.Key + "=" + StructuredField.BareItem(item.Value) + parameters;
    }

    /// <summary>A dictionary as text that names every value's type, apart from any serialisation.</summary>
    private static string Describe(IReadOnlyList<SfMember> members)
    {
        var text = new StringBuilder();
        foreach (var member in members)
        {
            text.Append('{').Append(member.Key);
            if (member.InnerList is { } list)
            {
                text.Append(" list");
                foreach (var item in list)
                {
                    text.Append(" [").Append(Value(item.Value));
                    Parameters(text, item.Parameters);
                    text.Append(']');
                }

                Parameters(text, member.Parameters);
            }
            else
            {
                text.Append(" item ").Append(Value(member.Item!.Value));
                Parameters(text, member.Item.Parameters.Concat(member.Parameters));
            }

            text.Append('}');
        }

        return text.ToString();

        static void Parameters(StringBuilder text, IEnumerable<KeyValuePair<string, object>> parameters)
        {
            foreach (var (key, value) in parameters)
            {
                text.Append(" ;").Append(key).Append('=').Append(Value(value));
            }
        }

        static string Value(object value) => value switch
        {
            string s => "string:" + Convert.ToHexString(Encoding.Latin1.GetBytes(s)),
            long l => "integer:" + l.ToString(CultureInfo.InvariantCulture),
            byte[] b => "bytes:" + Convert.ToHexString(b),
            SfToken t => "token:" + Convert.ToHexString(Encoding.Latin1.GetBytes(t.Value)),
            bool flag => "boolean:" + flag,
            _ => throw new InvalidOperationException("a bare item of a type the reader does not make: " + value.GetType().Name),
        };
    }

    /// <summary>
    /// <paramref name="body"/> as two buffers, split at <paramref name="at"/>, held as the gateway holds a body read into
    /// several (never disposed: the arrays are not the pool's).
    /// </summary>
    private static ReadOnlySequence<byte> Segments(byte[] body, int at) =>
        new ReceivedBody([(body[..at], at), (body[at..], body.Length - at)]).Content;

    private static void Token(string token)
    {
        if (TokenScreen.Read(Handler, token, Algorithms, out var jwt) is not null)
        {
            return;
        }

        // The screen let it through: its lifetime and (once a signature has verified) the caller it names and the
        // identity claims a pinned validator reads come from the same payload. Each is a verdict, never an exception.
        // (The library's TryGetPayloadValue reads ill-formed UTF-8 as U+FFFD; listing the claims is what throws.)
        _ = TokenScreen.CheckLifetime(jwt!, Now, TimeSpan.FromMinutes(5), TimeSpan.FromHours(24));
        if (TokenScreen.Caller(jwt!, out var caller) is null && caller is null)
        {
            throw new InvalidOperationException("a token that names its caller gave none");
        }

        foreach (var claim in (string[])["azp", "appid", "oid"])
        {
            _ = jwt!.TryGetPayloadValue<string>(claim, out _);
        }
    }
}
