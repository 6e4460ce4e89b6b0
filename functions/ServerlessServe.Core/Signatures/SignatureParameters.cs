namespace ServerlessServe.Core.Signatures;

/// <summary>
/// One request signature as <c>Signature-Input</c> and <c>Signature</c> carry it (RFC 9421 §4): the label, the covered
/// components in order, the signature parameters in order (they are signed as serialised), and the signature bytes.
/// </summary>
internal sealed record SignatureParameters(
    string Label,
    IReadOnlyList<string> Components,
    IReadOnlyList<KeyValuePair<string, object>> Parameters,
    long Created,
    long? Expires,
    string KeyId,
    string Nonce,
    byte[] Signature)
{
    /// <summary>The <c>@signature-params</c> value: the inner list and its parameters, serialised as received.</summary>
    public string Serialized() =>
        "(" + string.Join(' ', Components.Select(StructuredField.String)) + ")" + StructuredField.Parameters(Parameters);
}
