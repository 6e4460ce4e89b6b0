using System.ComponentModel.DataAnnotations;
using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Core.Tests.Redaction;

public class PhoneRegionTests
{
    private static readonly HashSet<PiiEntity> All = [.. Enum.GetValues<PiiEntity>()];

    [Fact]
    public void Redact_GermanNationalNumberTooShortForThePattern_FoundOnlyWithRegionDe()
    {
        const string text = "ruf an: 030 123456";

        Assert.Same(text, PiiRedactor.Redact(text, All).Text);
        Assert.Equal("ruf an: [PHONE]", PiiRedactor.Redact(text, All, ["DE"]).Text);
    }

    [Fact]
    public void Redact_NoRegions_LibPhoneNumberOff_PatternStillRuns()
    {
        // The pattern alone takes the longest prefix that passes as a national number; libphonenumber knows the whole.
        Assert.Equal("see ([PHONE] 0958)", PiiRedactor.Redact("see (011 44 20 7946 0958)", All, []).Text);
        Assert.Equal("see ([PHONE])", PiiRedactor.Redact("see (011 44 20 7946 0958)", All).Text);
        Assert.Equal("call [PHONE]", PiiRedactor.Redact("call +1 555 123 4567", All, []).Text);
    }

    [Fact]
    public void Redact_PhoneNotRequested_LibPhoneNumberClaimsNothing()
    {
        var emailOnly = new HashSet<PiiEntity> { PiiEntity.Email };

        Assert.Equal("[EMAIL] or 011 44 20 7946 0958", PiiRedactor.Redact("a@b.io or 011 44 20 7946 0958", emailOnly).Text);
    }

    [Theory]
    [InlineData(new[] { "US" }, true)]
    [InlineData(new[] { "DE", "GB", "FR" }, true)]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "XX" }, false)]
    [InlineData(new[] { "us" }, false)]
    [InlineData(new[] { "US", "DE", "GB", "FR", "IT", "ES", "NL", "BE", "AT" }, false)]
    public void RedactionOptions_PhoneRegions_Validated(string[] regions, bool valid)
    {
        var options = new RedactionOptions { PhoneRegions = regions };

        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), [], validateAllProperties: true));
    }

    [Fact]
    public void RedactionOptions_Default_IsUs() =>
        Assert.Equal(["US"], new RedactionOptions().PhoneRegions);
}
