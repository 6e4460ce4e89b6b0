using System.ComponentModel.DataAnnotations;
using PhoneNumbers;

namespace ServerlessServe.Core.Redaction;

/// <summary>Options of the PII redactor (<c>ServerlessServe:Redaction</c>).</summary>
public sealed class RedactionOptions : IValidatableObject
{
    public const string SectionName = "ServerlessServe:Redaction";

    /// <summary>
    /// Regions (ISO 3166-1 alpha-2, e.g. <c>US</c>, <c>DE</c>) whose national phone-number formats libphonenumber looks
    /// for in free text, besides the pattern detector; numbers written with <c>+</c> and a country code are found
    /// whatever the list. Each region is one more pass over the text. Default <c>["US"]</c>; empty turns libphonenumber
    /// off (the pattern detector still runs).
    /// </summary>
    [MaxLength(8)]
    public IList<string> PhoneRegions { get; init; } = ["US"];

    /// <summary>Every region must be one libphonenumber has metadata for.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var supported = PhoneNumberUtil.GetInstance().GetSupportedRegions();
        foreach (var region in PhoneRegions)
        {
            if (region is null || !supported.Contains(region))
            {
                yield return new ValidationResult("Each phone region must be a region libphonenumber supports, e.g. US.", [nameof(PhoneRegions)]);
            }
        }
    }
}
