using System.Text;
using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Core.Tests.Redaction;

// One collection: the adversarial-input tests guard against hangs with the match timeout, so the CPU-heavy corpus and
// property tests do not run beside them.
[Collection("PiiRedactor")]
public class PiiRedactorTests
{
    private static readonly HashSet<PiiEntity> All = [.. Enum.GetValues<PiiEntity>()];

    [Theory]
    [InlineData("mail alice.smith+tag@example.co.uk now", "mail [EMAIL] now")]
    [InlineData("x@y.io", "[EMAIL]")]
    [InlineData("call +1 (555) 123-4567 today", "call [PHONE] today")]
    [InlineData("call +44 20 7946 0958.", "call [PHONE].")]
    [InlineData("call +4915112345678", "call [PHONE]")]
    [InlineData("call (555) 123-4567", "call [PHONE]")]
    [InlineData("call 555-123-4567 or 555.987.6543", "call [PHONE] or [PHONE]")]
    [InlineData("2024-01-15 555-123-4567", "2024-01-15 [PHONE]")]
    [InlineData("card 4111 1111 1111 1111 ok", "card [CREDIT_CARD] ok")]
    [InlineData("card 5500-0000-0000-0004", "card [CREDIT_CARD]")]
    [InlineData("card 4222222222222.", "card [CREDIT_CARD].")]
    [InlineData("card 4111 1111 1111 1111 2024", "card [CREDIT_CARD] 2024")]
    [InlineData("iban DE89 3704 0044 0532 0130 00 ok", "iban [IBAN] ok")]
    [InlineData("iban GB82WEST12345698765432", "iban [IBAN]")]
    [InlineData("ssn 123-45-6789", "ssn [US_SSN]")]
    [InlineData("from 192.168.1.1 and 10.0.0.255.", "from [IPV4] and [IPV4].")]
    [InlineData("host 2001:db8::1 up", "host [IPV6] up")]
    [InlineData("host 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "host [IPV6]")]
    [InlineData("host fe80::1ff:fe23:4567:890a", "host [IPV6]")]
    [InlineData("loopback ::1", "loopback [IPV6]")]
    [InlineData("mapped ::ffff:192.168.1.1", "mapped [IPV6]")]
    public void Redact_Entity_ReplacedByPlaceholder(string text, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(text, All).Text);

    /// <summary>
    /// A requested entity inside a span another detector claimed first, of a kind the policy does not ask for, is still
    /// replaced: a phone or SSN followed by a year reads as a Luhn-valid card number (found in review 2026-12-07: with
    /// only PHONE or US_SSN requested, the number went out as it was).
    /// </summary>
    [Theory]
    [InlineData("Call 555-123-4567 2024", PiiEntity.Phone, "555-123-4567")]
    [InlineData("SSN 123-45-6789 1985", PiiEntity.UsSsn, "123-45-6789")]
    public void Redact_RequestedEntityInsideAnUnrequestedKindsClaim_Replaced(string text, PiiEntity entity, string secret)
    {
        // The premise: the whole run reads as a card.
        Assert.Contains("[CREDIT_CARD]", PiiRedactor.Redact(text, new HashSet<PiiEntity> { PiiEntity.CreditCard }).Text, StringComparison.Ordinal);
        var redacted = PiiRedactor.Redact(text, new HashSet<PiiEntity> { entity }).Text;
        Assert.DoesNotContain(secret, redacted, StringComparison.Ordinal);
        Assert.Contains("[" + entity.PlaceholderName() + "]", redacted, StringComparison.Ordinal);
    }

    /// <summary>
    /// Two addresses that meet inside one character of a multi-character fold (℅ reads "c/o") map back to ranges that
    /// overlap in the original: they are replaced as one, never as two that cross (which threw: a 500 at redact).
    /// </summary>
    [Fact]
    public void Redact_EntitiesOverlappingInTheOriginalThroughAFold_ReplacedWithoutThrowing()
    {
        var redacted = PiiRedactor.Redact("x john@example.a\u2105ne@example.com y", new HashSet<PiiEntity> { PiiEntity.Email }).Text;

        Assert.DoesNotContain("@", redacted, StringComparison.Ordinal);
        Assert.StartsWith("x [EMAIL]", redacted, StringComparison.Ordinal);
        Assert.EndsWith(" y", redacted, StringComparison.Ordinal);
    }

    /// <summary>
    /// The digits of an IPv4 address, or of an IBAN, that the policy does not ask for are not read again as a phone:
    /// reading every unrequested span again (a first fix of the card case) redacted "192.168.1.100" as a phone.
    /// </summary>
    [Theory]
    [InlineData("host 192.168.1.100 up")]
    [InlineData("host 172.16.100.200 up")]
    [InlineData("iban DE89 3704 0044 0532 0130 00 ok")]
    public void Redact_UnrequestedIpOrIbanDigits_NotReadAsAPhone(string text) =>
        Assert.Equal(text, PiiRedactor.Redact(text, new HashSet<PiiEntity> { PiiEntity.Phone }).Text);

    // Found in review (2026-12-06): each of these leaked whole or in part.
    [Theory]
    [InlineData("ssn 123\u0000-45-6789 ok", "[US_SSN]", "6789")]
    [InlineData("ssn 123\u3164-45-6789 ok", "[US_SSN]", "6789")]
    [InlineData("ssn 123\u2065-45-6789 ok", "[US_SSN]", "6789")]
    [InlineData("ssn 123\u0085\u0001-45-6789 ok", "[US_SSN]", "6789")]
    [InlineData("ssn 1\u03362\u03363\u0336-4\u03365\u0336-6\u03367\u03368\u03369\u0336 ok", "[US_SSN]", "9")]
    [InlineData("ssn 1\uFE0F\u20E32\uFE0F\u20E33\uFE0F\u20E3-4\uFE0F\u20E35\uFE0F\u20E3-6\uFE0F\u20E37\uFE0F\u20E38\uFE0F\u20E39\uFE0F\u20E3 ok", "[US_SSN]", "9")]
    [InlineData("ssn \U0001E951\U0001E952\U0001E953-\U0001E954\U0001E955-\U0001E956\U0001E957\U0001E958\U0001E959 ok", "[US_SSN]", "\U0001E959")]
    [InlineData("ssn \u278A\u278B\u278C-\u278D\u278E-\u278F\u2790\u2791\u2792 ok", "[US_SSN]", "\u2792")]
    [InlineData("ssn 123\u250045\u25006789 ok", "[US_SSN]", "6789")]
    [InlineData("card 4111\u115F1111\u115F1111\u115F1111 ok", "[CREDIT_CARD]", "1111")]
    [InlineData("ip 10.0.0\u2800.1 ok", "[IPV4]", "10.0")]
    [InlineData("mail jo\u0000hn@example.com ok", "[EMAIL]", "jo")]
    [InlineData("mail john@example\u0000.com ok", "[EMAIL]", "example")]
    [InlineData("mail john@example\u2800.com ok", "[EMAIL]", "example")]
    [InlineData("mail john@example\u0387com ok", "[EMAIL]", "example")]
    [InlineData("mail j\u0336o\u0336h\u0336n\u0336@\u0336e\u0336x\u0336.\u0336c\u0336o\u0336m\u0336 ok", "[EMAIL]", "h")]
    [InlineData("mail john@example.\u092D\u093E\u0930\u0924 ok", "[EMAIL]", "example")]
    [InlineData("mail aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com ok", "[EMAIL]", "example")]
    [InlineData("mail ____________________________________________________________________john@example.com ok", "[EMAIL]", "john")]
    [InlineData("mail john@a1.b1.c1.d1.e1.f1.g1.h1.i1.com ok", "[EMAIL]", "john")]
    [InlineData("mail john@example.abcdefghijklmnopqrstuvwxyzab ok", "[EMAIL]", "john")]
    [InlineData("src:2001:db8:85a3::8a2e:370:7334 ok", "[IPV6]", "7334")]
    [InlineData("ip:fe80::1ff:fe23:4567:890a ok", "[IPV6]", "890a")]
    [InlineData("to john@[IPv6:2001:db8::1] ok", "[IPV6]", "db8")]
    [InlineData("host ::2:3:4:5:6:7:8 ok", "[IPV6]", "7:8")]
    [InlineData("host 1:2:3:4:5:6:7:: ok", "[IPV6]", "6:7")]
    [InlineData("Suite 300 555-123-4567 ok", "[PHONE]", "4567")]
    [InlineData("Room 12 030-123-4567 ok", "[PHONE]", "4567")]
    // Digits with no compatibility decomposition that are not dingbats (found in review 2026-12-07).
    [InlineData("card \u24F8\u24F5\u24F5\u24F5 \u24F5\u24F5\u24F5\u24F5 \u24F5\u24F5\u24F5\u24F5 \u24F5\u24F5\u24F5\u24F5 ok", "[CREDIT_CARD]", "\u24F5")]
    [InlineData("card \u136C\u1369\u1369\u1369 \u1369\u1369\u1369\u1369 \u1369\u1369\u1369\u1369 \u1369\u1369\u1369\u1369 ok", "[CREDIT_CARD]", "\u1369")]
    [InlineData("ssn \u24F5\u24F6\u24F7-\u24F8\u24F9-\u24FA\u24FB\u24FC\u24FD ok", "[US_SSN]", "\u24FD")]
    public void Redact_EntityHiddenByInvisibleOrLookAlikeCharactersOrLongParts_Found(string text, string placeholder, string secret)
    {
        var redacted = PiiRedactor.Redact(text, All).Text;
        Assert.Contains(placeholder, redacted, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, redacted, StringComparison.Ordinal);
        Assert.EndsWith(" ok", redacted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("write to john.doe@example.com\u2014today", "write to [EMAIL]\u2014today")]
    [InlineData("write to john.doe@example.com-today", "write to [EMAIL]-today")]
    [InlineData("mail bob@example.com\u2014alice@corp.org now", "mail [EMAIL][EMAIL] now")]
    [InlineData("mail bob@example.com.alice@corp.org now", "mail [EMAIL][EMAIL] now")]
    [InlineData("mail john.smith@example.com_x@corp.org now", "mail [EMAIL] now")]
    [InlineData("mail john.smith@example.com_x@corp.org_y@corp.net now", "mail [EMAIL] now")]
    [InlineData("mail x@y@z@example.com now", "mail [EMAIL] now")]
    [InlineData("his SSN\u2014123-45-6789\u2014was filed", "his SSN\u2014[US_SSN]\u2014was filed")]
    [InlineData("SSN-123-45-6789", "SSN-[US_SSN]")]
    [InlineData("ssn 123-45-6789\u2013ok", "ssn [US_SSN]\u2013ok")]
    [InlineData("mail john.o'brien@example.com", "mail [EMAIL]")]
    [InlineData("mail first&last@example.com or x!y@example.org", "mail [EMAIL] or [EMAIL]")]
    [InlineData("see https://example.com/page?user=john@example.com", "see https://example.com/page?user=[EMAIL]")]
    [InlineData("ip \u0661\u0669\u0662.\u0661\u0666\u0668.\u0661.\u0661 up", "ip [IPV4] up")]
    [InlineData("ip \uFF11\uFF10.0.0.1", "ip [IPV4]")]
    public void Redact_EntityBesideAnUnspacedDashOrWithUncommonCharacters_Found(string text, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(text, All).Text);

    [Theory]
    [InlineData("card 4111-1111-1111-1112")] // Luhn fails
    [InlineData("id 1234567890123456")] // Luhn fails
    [InlineData("iban DE88 3704 0044 0532 0130 00")] // mod-97 fails
    [InlineData("ssn 000-12-3456")]
    [InlineData("ssn 666-12-3456")]
    [InlineData("ssn 912-12-3456")]
    [InlineData("ssn 123-00-4567")]
    [InlineData("ssn 123-45-0000")]
    [InlineData("ip 999.1.1.1")]
    [InlineData("ip 1.2.3.256")]
    [InlineData("version 1.2.3")]
    [InlineData("at 12:30:45")]
    [InlineData("std::vector<int>")]
    [InlineData("order 12345 of 2024-01-15 and 15.01.2024")]
    [InlineData("ext 555-1234")]
    [InlineData("plain 5551234567")]
    [InlineData("user at example dot com")]
    [InlineData("")]
    public void Redact_NotAnEntity_Untouched(string text) =>
        Assert.Equal(text, PiiRedactor.Redact(text, All).Text);

    [Theory]
    [InlineData("card 4111\u00A01111\u00A01111\u00A01111 ok", "card [CREDIT_CARD] ok")] // no-break space
    [InlineData("card 4111\u202F1111\u202F1111\u202F1111", "card [CREDIT_CARD]")] // narrow no-break space
    [InlineData("card 4111\u20091111\u20091111\u20091111", "card [CREDIT_CARD]")] // thin space
    [InlineData("card 4111\u30001111\u30001111\u30001111", "card [CREDIT_CARD]")] // ideographic space
    [InlineData("card\t4111\t1111\t1111\t1111\tend", "card\t[CREDIT_CARD]\tend")]
    [InlineData("card 5500\u00A00000-0000\t0004", "card [CREDIT_CARD]")]
    [InlineData("card 4111\u00A01111\u00A01111\u00A01111\u00A02024", "card [CREDIT_CARD]\u00A02024")]
    public void Redact_CardWithUnicodeSpacesOrTabs_Found(string text, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(text, All).Text);

    [Theory]
    [InlineData("iban gb82 west 1234 5698 7654 32", "iban [IBAN]")]
    [InlineData("iban gb82west12345698765432.", "iban [IBAN].")]
    [InlineData("iban Gb82 WeSt 1234 5698 7654 32 ok", "iban [IBAN] ok")]
    [InlineData("iban de89 3704 0044 0532 0130 00", "iban [IBAN]")]
    [InlineData("iban GB82\u00A0WEST\u00A01234\u00A05698\u00A07654\u00A032", "iban [IBAN]")]
    public void Redact_LowercaseOrNoBreakSpaceIban_Found(string text, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(text, All).Text);

    [Theory]
    [InlineData("ssn 123 45 6789", "ssn [US_SSN]")]
    [InlineData("ssn 123.45.6789.", "ssn [US_SSN].")]
    [InlineData("ssn 123\u00A045\u00A06789 filed", "ssn [US_SSN] filed")]
    [InlineData("(123 45 6789)", "([US_SSN])")]
    [InlineData("ssn: 078.05.1120, next", "ssn: [US_SSN], next")]
    public void Redact_SsnWithSpacesOrDots_Found(string text, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(text, All).Text);

    [Theory]
    [InlineData("card 4111\u00A01111\u00A01111\u00A01112")] // Luhn fails
    [InlineData("card 4111\t1111\t1111\t1112")] // Luhn fails
    [InlineData("id 1234\u00A05678\u00A09012\u00A03456")] // Luhn fails
    [InlineData("iban de88 3704 0044 0532 0130 00")] // mod-97 fails
    [InlineData("iban gb83west12345698765432")] // mod-97 fails
    [InlineData("word ab12cdefghijklmn")] // IBAN-shaped, mod-97 fails
    [InlineData("ssn 000 12 3456")]
    [InlineData("ssn 666.12.3456")]
    [InlineData("ssn 912 12 3456")]
    [InlineData("ssn 123 00 4567")]
    [InlineData("ssn 123.45.0000")]
    [InlineData("ssn 123 45-6789")] // one separator kind throughout
    [InlineData("ssn 123.45 6789")]
    [InlineData("on 2024 01 15 and 15 01 2024 and 2024.01.15 and 15.01.2024")]
    [InlineData("version 10.20.3000")]
    public void Redact_NewFormsNotAnEntity_Untouched(string text) =>
        Assert.Equal(text, PiiRedactor.Redact(text, All).Text);

    [Theory]
    [InlineData("call 555 123 4567", "call [PHONE]")]
    [InlineData("call 555.123.4567", "call [PHONE]")]
    [InlineData("call +33 123 45 6789", "call [PHONE]")]
    [InlineData("call 0123 45 6789", "call [PHONE]")]
    [InlineData("call +1 555 123 4567 now", "call [PHONE] now")]
    [InlineData("call +46 8 123 45 678", "call [PHONE]")]
    [InlineData("on 2024-01-15 555-123-4567", "on 2024-01-15 [PHONE]")]
    public void Redact_PhonesNearTheNewSsnForms_StayPhones(string text, string expected)
    {
        var result = PiiRedactor.Redact(text, All);

        Assert.Equal(expected, result.Text);
        Assert.False(result.Counts.ContainsKey("US_SSN"));
    }

    [Theory]
    [InlineData("host 1.123.45.6789")]
    [InlineData("oid 123.45.6789.1")]
    [InlineData("ref 123 45 6789 12")]
    [InlineData("ref 9 123 45 6789")]
    [InlineData("ref 123-45-67890")]
    [InlineData("ref 1-123-45-6789")]
    [InlineData("ref 123-45-6789-1")]
    public void Redact_SsnShapeInsideLongerDigitRun_NotAnSsn(string text) =>
        Assert.False(PiiRedactor.Redact(text, All).Counts.ContainsKey("US_SSN"));

    [Fact]
    public void Redact_OnlySsnRequested_PhoneDigitsNotTakenForSsn()
    {
        var ssnOnly = new HashSet<PiiEntity> { PiiEntity.UsSsn };

        Assert.Equal("call +33 123 45 6789", PiiRedactor.Redact("call +33 123 45 6789", ssnOnly).Text);
        Assert.Equal("ssn [US_SSN]", PiiRedactor.Redact("ssn 123 45 6789", ssnOnly).Text);
    }

    [Fact]
    public void Redact_Mixed_CountsPerPlaceholder()
    {
        var result = PiiRedactor.Redact("a@b.com, c@d.org, 4111 1111 1111 1111, 10.1.2.3, +1 555 123 4567", All);

        Assert.Equal("[EMAIL], [EMAIL], [CREDIT_CARD], [IPV4], [PHONE]", result.Text);
        Assert.Equal(new Dictionary<string, int> { ["EMAIL"] = 2, ["CREDIT_CARD"] = 1, ["IPV4"] = 1, ["PHONE"] = 1 }, result.Counts);
    }

    [Fact]
    public void Redact_OnlyRequestedEntities_OthersKeptAndNotMistaken()
    {
        var result = PiiRedactor.Redact("card 4111 1111 1111 1111, mail a@b.com, call +1 555 123 4567", new HashSet<PiiEntity> { PiiEntity.Phone });

        Assert.Equal("card 4111 1111 1111 1111, mail a@b.com, call [PHONE]", result.Text);
        Assert.Equal(1, Assert.Single(result.Counts).Value);
    }

    // Found in review (2026-12-06): an entity the policy did not ask for claimed the span, and the one it asked for inside
    // leaked whole.
    [Theory]
    [InlineData("text 2015550123@vtext.com now", PiiEntity.Phone, "text [PHONE]@vtext.com now")]
    [InlineData("text 2015550123@vtext.com-alice@corp.org now", PiiEntity.Phone, "text [PHONE]@vtext.com-alice@corp.org now")]
    [InlineData("text bob@example.com-2015550123@vtext.com now", PiiEntity.Phone, "text bob@example.com-[PHONE]@vtext.com now")]
    [InlineData("text 2015550123@vtext.com_x@corp.org now", PiiEntity.Phone, "text [PHONE]@vtext.com_x@corp.org now")]
    [InlineData("text +442079460958@sms.example", PiiEntity.Phone, "text [PHONE]@sms.example")]
    [InlineData("text 201-555-0123@vtext.com now", PiiEntity.Phone, "text [PHONE]@vtext.com now")]
    [InlineData("mail 1234567@example.com, id 2015550123", PiiEntity.Phone, "mail 1234567@example.com, id 2015550123")]
    [InlineData("to 4111111111111111@pay.example", PiiEntity.CreditCard, "to [CREDIT_CARD]@pay.example")]
    [InlineData("to 123-45-6789@example.com", PiiEntity.UsSsn, "to [US_SSN]@example.com")]
    [InlineData("to admin@[192.168.1.1] now", PiiEntity.IPv4, "to admin@[[IPV4]] now")]
    [InlineData("mapped ::ffff:192.168.1.1 up", PiiEntity.IPv4, "mapped ::ffff:[IPV4] up")]
    [InlineData("mail alice@example.com, host 2001:db8::1", PiiEntity.Phone, "mail alice@example.com, host 2001:db8::1")]
    public void Redact_RequestedEntityInsideAnUnrequestedOne_Replaced(string text, PiiEntity requested, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(text, new HashSet<PiiEntity> { requested }).Text);

    [Fact]
    public void Redact_NoEntitiesRequested_ReturnsSameText()
    {
        const string text = "a@b.com";

        Assert.Same(text, PiiRedactor.Redact(text, new HashSet<PiiEntity>()).Text);
    }

    /// <summary>
    /// Scripts that write words without spaces put an entity straight against the letters around it. The IBAN, phone
    /// and IPv6 patterns refused a match beside any letter, so none of these was redacted (the IPv6 address lost only
    /// its tail); beside a Latin letter a run is still part of a word (review, 2026-12-07).
    /// </summary>
    [Theory]
    [InlineData("口座番号はDE89370400440532013000です", "口座番号は[IBAN]です")]
    [InlineData("电话555-123-4567谢谢", "电话[PHONE]谢谢")]
    [InlineData("전화번호는(555) 123-4567입니다", "전화번호는[PHONE]입니다")]
    [InlineData("アドレスは2001:db8::1です", "アドレスは[IPV6]です")]
    [InlineData("โทร555-123-4567ครับ", "โทร[PHONE]ครับ")]
    [InlineData("refDE89370400440532013000", "refDE89370400440532013000")]
    [InlineData("id2001:db8::1x", "id2001:db8::1x")]
    public void Redact_EntityAgainstLettersOfUnspacedScripts_Found(string text, string expected) =>
        Assert.Equal(expected, PiiRedactor.Redact(text, All).Text);

    /// <summary>
    /// A text reached once the scan's time is up is refused (null: replaced unread) before its normalised copy and maps
    /// are made, about ten bytes a character: a 4 MiB text took some 40 MB first (review, 2026-12-07).
    /// </summary>
    [Fact]
    public void Find_PastTheDeadline_NullWithoutCopyingTheText()
    {
        var text = new string('a', 4 * 1024 * 1024);
        Assert.Null(PiiRedactor.Find(text, All, deadline: 1));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var found = PiiRedactor.Find(text, All, deadline: 1);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Null(found);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Redact_FullWidthDigits_StillFound() =>
        Assert.Equal("card [CREDIT_CARD]", PiiRedactor.Redact("card ４１１１ １１１１ １１１１ １１１１", All).Text);

    [Fact]
    public void RedactUtf8_InvalidUtf8_ReplacedWholesaleAndCounted()
    {
        var counts = new Dictionary<string, int>();

        var result = PiiRedactor.RedactUtf8([0x61, 0x40, 0x62, 0xC3, 0x28, 0x2E, 0x63, 0x6F, 0x6D], All, counts);

        Assert.Equal("[BINARY]", Encoding.UTF8.GetString(result));
        Assert.Equal(1, counts[PiiEntities.Binary]);
    }

    [Fact]
    public void RedactUtf8_NoEntitiesRequested_PassesBytesThrough()
    {
        byte[] invalid = [0xFF, 0xFE];

        Assert.Same(invalid, PiiRedactor.RedactUtf8(invalid, new HashSet<PiiEntity>(), new Dictionary<string, int>()));
    }

    [Fact]
    public void RedactUtf8_ValidText_RedactedAsUtf8()
    {
        var counts = new Dictionary<string, int>();

        var result = PiiRedactor.RedactUtf8(Encoding.UTF8.GetBytes("Zoë: zoe@exämple.de"), All, counts);

        Assert.Equal("Zoë: [EMAIL]", Encoding.UTF8.GetString(result));
    }

    [Theory]
    [InlineData("a", 200_000)]
    [InlineData("1-", 100_000)]
    [InlineData("1 ", 100_000)]
    [InlineData("a.", 100_000)]
    [InlineData("1:", 100_000)]
    [InlineData("1.", 100_000)]
    [InlineData("DE00 ", 50_000)]
    [InlineData("de00\u00A0", 50_000)]
    [InlineData("1\u00A0", 100_000)]
    [InlineData("1\t", 100_000)]
    [InlineData("123 45 ", 30_000)]
    [InlineData("123.45.", 30_000)]
    public async Task Redact_AdversarialInput_LinearAndComplete(string unit, int repeat)
    {
        var text = string.Concat(Enumerable.Repeat(unit, repeat)) + "@";

        // A hang guard, not a speed target (that is the redaction benchmark's job): backtracking on inputs like these
        // would take hours, a linear scan a fraction of a second. Each pattern's match timeout (1 s) is wall-clock time,
        // though, and a CI run once descheduled the scan of this 210,000-character text long enough to reach it (seen
        // 2026-12-04 with every test project running on two cores: the text came back unscannable). A scan that is
        // not linear times out every time; one that is completes on a second or third try.
        PiiRedactionResult result = null!;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            result = await Task.Run(() => PiiRedactor.Redact(text, All)).WaitAsync(TimeSpan.FromMinutes(1));
            if (!result.Counts.ContainsKey(PiiEntities.Unscannable))
            {
                break;
            }
        }

        Assert.False(result.Counts.ContainsKey(PiiEntities.Unscannable));
    }
}
