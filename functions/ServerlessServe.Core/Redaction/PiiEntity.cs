namespace ServerlessServe.Core.Redaction;

/// <summary>Kinds of personal data the redactor finds in BYTES outputs; the placeholder is <c>[NAME]</c>, e.g. <c>[EMAIL]</c>.</summary>
public enum PiiEntity
{
    Email,
    Phone,
    CreditCard,
    Iban,
    UsSsn,
    IPv4,
    IPv6,
}
