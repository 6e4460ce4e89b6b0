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

    /// <summary>
    /// The most time the redactor spends reading one response's text (every BYTES output, every element). Past it, each
    /// element not yet read is replaced by <c>[REDACTED]</c> (counted as <see cref="PiiEntities.Unscannable"/>): the
    /// response is released without the text that could not be read in time, never with it unread. Bounds what a
    /// model that echoes its input costs the gateway: 200 KB of <c>1 1 1 …</c> takes seconds to read, 16 MiB minutes.
    /// Default 5 s; between 10 ms and 10 min.
    /// </summary>
    public TimeSpan MaxScanTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Every region must be one libphonenumber has metadata for.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxScanTime < TimeSpan.FromMilliseconds(10) || MaxScanTime > TimeSpan.FromMinutes(10))
        {
            yield return new ValidationResult("MaxScanTime must be between 00:00:00.010 and 00:10:00.", [nameof(MaxScanTime)]);
        }

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
