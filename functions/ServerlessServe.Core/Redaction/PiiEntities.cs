namespace ServerlessServe.Core.Redaction;

/// <summary>Placeholder names of <see cref="PiiEntity"/> values, as used in redacted text and in redaction counts.</summary>
internal static class PiiEntities
{
    /// <summary>Count key and placeholder name for BYTES elements that are not valid UTF-8 and were replaced wholesale.</summary>
    public const string Binary = "BINARY";

    /// <summary>Count key and placeholder name for text that could not be scanned within the match timeout and was replaced wholesale.</summary>
    public const string Unscannable = "REDACTED";

    /// <summary>The placeholder name, e.g. <c>EMAIL</c> for <see cref="PiiEntity.Email"/>; the redacted text holds <c>[EMAIL]</c>.</summary>
    public static string PlaceholderName(this PiiEntity entity) => entity switch
    {
        PiiEntity.Email => "EMAIL",
        PiiEntity.Phone => "PHONE",
        PiiEntity.CreditCard => "CREDIT_CARD",
        PiiEntity.Iban => "IBAN",
        PiiEntity.UsSsn => "US_SSN",
        PiiEntity.IPv4 => "IPV4",
        PiiEntity.IPv6 => "IPV6",
        _ => throw new ArgumentOutOfRangeException(nameof(entity)),
    };

    /// <summary>The text that replaces a match, e.g. <c>[EMAIL]</c>.</summary>
    public static string Placeholder(this PiiEntity entity) => entity switch
    {
        PiiEntity.Email => "[EMAIL]",
        PiiEntity.Phone => "[PHONE]",
        PiiEntity.CreditCard => "[CREDIT_CARD]",
        PiiEntity.Iban => "[IBAN]",
        PiiEntity.UsSsn => "[US_SSN]",
        PiiEntity.IPv4 => "[IPV4]",
        PiiEntity.IPv6 => "[IPV6]",
        _ => throw new ArgumentOutOfRangeException(nameof(entity)),
    };
}
