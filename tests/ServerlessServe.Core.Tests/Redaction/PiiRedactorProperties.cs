using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Core.Tests.Redaction;

/// <summary>
/// Properties of the redactor over generated text: valid entities (checksums computed, not sampled) written with random
/// separators of every class inside prose with Unicode dashes, spaces and invisible characters; and prose without any
/// entity. The prose has no digits and no <c>@</c>, so after redaction no digit and no <c>@</c> may be left.
/// </summary>
// One collection: the adversarial-input tests guard against hangs with the match timeout, so the CPU-heavy corpus and
// property tests do not run beside them.
[Collection("PiiRedactor")]
public class PiiRedactorProperties
{
    private static readonly HashSet<PiiEntity> All = [.. Enum.GetValues<PiiEntity>()];

    private static readonly string[] Words =
    [
        "the", "order", "was", "sent", "Zo\u00EB", "na\u00EFve", "stra\u00DFe", "\u6771\u4EAC", "well-known", "re\u2010sent", "and",
        "pages", "note", "caf\u00E9", "\uFB01ne", "\uFF21\uFF22\uFF23", "Ab", "de", "GB", "ext", "tel", "IBAN", "card", "SSN",
    ];

    private static readonly string[] Gaps =
    [
        " ", "  ", "\u00A0", "\u2009", "\u3000", "\t", "\n", "\r\n", " - ", " \u2013 ", " \u2014 ", ", ", ". ", " / ", "; ", " \u2212 ",
    ];

    private static readonly string[] InvisibleChars = ["\u00AD", "\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF"];

    private static readonly string[] SpaceSeparators = [" ", "  ", "\u00A0", "\u202F", "\u2009", "\u3000", "\t", "\n", "\r\n"];

    private static readonly string[] DashSeparators =
    [
        "-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\uFE58", "\uFE63", "\uFF0D", " - ", " \u2013 ",
    ];

    private static readonly string[] DotSeparators = [".", "\uFF0E", "\u2024", "\u00B7"];

    private static readonly string[] SlashSeparators = ["/", "\u2044", "\u2215", "\uFF0F", " / "];

    [Property(MaxTest = 300)]
    public Property Redact_EmbeddedEntity_NoDigitOrAtSignLeft() =>
        Prop.ForAll(Embedded().ToArbitrary(), sample =>
        {
            var redacted = PiiRedactor.Redact(sample.Text, All).Text;
            var normalized = WithoutPlaceholders(TextNormalizer.Normalize(redacted).Text);
            return Prop.Label(!normalized.Any(PiiValidators.IsDigit) && !normalized.Contains('@', StringComparison.Ordinal),
                $"{sample.Kind}: «{Escape(sample.Text)}» -> «{Escape(redacted)}»");
        });

    [Property(MaxTest = 300)]
    public Property Redact_EmbeddedEntity_OnlyTheEntityReplaced() =>
        Prop.ForAll(Embedded().ToArbitrary(), sample =>
        {
            var redacted = PiiRedactor.Redact(sample.Text, All).Text;
            return Prop.Label(redacted == sample.Before + sample.Kind.Placeholder() + sample.After,
                $"{sample.Kind}: «{Escape(sample.Text)}» -> «{Escape(redacted)}»");
        });

    [Property(MaxTest = 300)]
    public Property Redact_Twice_SameAsOnce() =>
        Prop.ForAll(Gen.OneOf(Embedded().Select(s => s.Text), Prose(withNumbers: true)).ToArbitrary(), text =>
        {
            var once = PiiRedactor.Redact(text, All).Text;
            return Prop.Label(PiiRedactor.Redact(once, All).Text == once, $"«{Escape(text)}» -> «{Escape(once)}»");
        });

    [Property(MaxTest = 300)]
    public Property Redact_ProseWithoutEntity_ReturnsTheSameString() =>
        Prop.ForAll(Prose(withNumbers: true).ToArbitrary(), text =>
            Prop.Label(ReferenceEquals(PiiRedactor.Redact(text, All).Text, text), $"«{Escape(text)}»"));

    [Property(MaxTest = 300)]
    public Property Redact_EmbeddedEntity_NormalisedEntityAbsentFromOutput() =>
        Prop.ForAll(Embedded().ToArbitrary(), sample =>
        {
            var redacted = TextNormalizer.Normalize(PiiRedactor.Redact(sample.Text, All).Text).Text;
            var entity = Compact(TextNormalizer.Normalize(sample.Entity).Text);
            return Prop.Label(!Compact(redacted).Contains(entity, StringComparison.OrdinalIgnoreCase),
                $"{sample.Kind}: «{Escape(sample.Text)}»");
        });

    private static Gen<Sample> Embedded() =>
        from kind in Gen.Elements(new[] { PiiEntity.CreditCard, PiiEntity.Iban, PiiEntity.UsSsn, PiiEntity.Phone, PiiEntity.Email, PiiEntity.IPv4 })
        from entity in Entity(kind)
        from before in Prose(withNumbers: false)
        from after in Prose(withNumbers: false)
        from left in Gen.Elements(new[] { " ", "\n", ": ", " (", "\u00A0" })
        from right in Gen.Elements(new[] { " ", "\n", ", ", ") ", ".\n" })
        select new Sample(kind, entity, before + left, right + after);

    private static Gen<string> Entity(PiiEntity kind) => kind switch
    {
        PiiEntity.CreditCard => Card(),
        PiiEntity.Iban => Iban(),
        PiiEntity.UsSsn => Ssn(),
        PiiEntity.Phone => Phone(),
        PiiEntity.Email => Email(),
        _ => IPv4(),
    };

    private static Gen<string> Card() =>
        from prefix in Gen.Elements(new[] { "4", "51", "55", "37" })
        from body in Digits(prefix == "37" ? 14 - prefix.Length : 15 - prefix.Length)
        let digits = WithLuhn(prefix + body)
        from grouping in Gen.Elements(new[] { 0, 1, 2 })
        from separator in Gen.OneOf(Gen.Elements(SpaceSeparators), Gen.Elements(DashSeparators), Gen.Elements(InvisibleChars), Gen.Elements(DotSeparators), Gen.Constant(string.Empty))
        select Render(digits, grouping == 0 ? [digits.Length] : digits.Length == 15 ? [4, 6, 5] : [4, 4, 4, 4], grouping == 0 ? string.Empty : separator);

    private static Gen<string> Iban() =>
        from bban in Digits(18)
        from separator in Gen.OneOf(Gen.Elements(SpaceSeparators), Gen.Elements(DashSeparators[..11]), Gen.Elements(DotSeparators), Gen.Elements(InvisibleChars), Gen.Constant(string.Empty))
        from lower in Gen.Elements(new[] { false, true })
        let iban = "DE" + IbanCheckDigits("DE", bban) + bban
        select Render(lower ? iban.ToLowerInvariant() : iban, [4, 4, 4, 4, 4, 2], separator);

    private static Gen<string> Ssn() =>
        from area in Gen.Choose(1, 899).Where(a => a != 666)
        from block in Gen.Choose(1, 99)
        from serial in Gen.Choose(1, 9999)
        from separator in Gen.OneOf(Gen.Elements(SpaceSeparators), Gen.Elements(DashSeparators), Gen.Elements(DotSeparators[..3]))
        select string.Join(separator, area.ToString("000", CultureInfo.InvariantCulture), block.ToString("00", CultureInfo.InvariantCulture), serial.ToString("0000", CultureInfo.InvariantCulture));

    private static Gen<string> Phone() =>
        from country in Gen.Elements(new[] { "+1", "+44", "+49", "+33", "+81" })
        from national in Digits(9)
        from first in Gen.Choose(2, 9)
        from separator in Gen.OneOf(Gen.Elements(SpaceSeparators), Gen.Elements(DashSeparators), Gen.Elements(DotSeparators), Gen.Elements(SlashSeparators))
        let digits = first.ToString(CultureInfo.InvariantCulture) + national
        select string.Join(separator, country, digits[..3], digits[3..6], digits[6..]);

    private static Gen<string> Email() =>
        from local in Word(3, 8)
        from domain in Word(3, 10)
        from tld in Gen.Elements(new[] { "com", "org", "de", "co.uk" })
        from at in Gen.Elements(new[] { "@", "\uFF20", "\uFE6B" })
        from invisible in Gen.Elements(InvisibleChars)
        from position in Gen.Choose(1, 2)
        select local.Insert(position, invisible) + at + domain.Insert(position, invisible) + "." + tld;

    private static Gen<string> IPv4() =>
        from octets in Gen.Choose(0, 255).ArrayOf(4)
        from padded in Gen.Elements(new[] { false, true })
        from separator in Gen.Elements(DotSeparators)
        select string.Join(separator, octets.Select(o => o.ToString(padded ? "000" : "0", CultureInfo.InvariantCulture)));

    /// <summary>Words, small numbers (never two in a row) and gaps; invisible characters only inside words.</summary>
    private static Gen<string> Prose(bool withNumbers) =>
        from count in Gen.Choose(0, 8)
        from tokens in Token(withNumbers).ArrayOf(count)
        from gaps in Gen.Elements(Gaps).ArrayOf(count)
        select string.Concat(tokens.Zip(gaps, (token, gap) => token + gap));

    private static Gen<string> Token(bool withNumbers)
    {
        var word =
            from w in Gen.Elements(Words)
            from invisible in Gen.Elements(new[] { string.Empty, string.Empty }.Concat(InvisibleChars).ToArray())
            select w.Length > 1 ? w.Insert(1, invisible) : w;
        if (!withNumbers)
        {
            return word;
        }

        var number =
            from n in Gen.Choose(0, 999)
            from form in Gen.Elements(new[] { "0", "0.0", "full-width" })
            from w in word
            from gap in Gen.Elements(Gaps)
            select Number(n, form) + gap + w;
        return Gen.Frequency((3, word), (1, number));
    }

    private static string Number(int n, string form) => form switch
    {
        "full-width" => string.Concat(n.ToString(CultureInfo.InvariantCulture).Select(c => (char)(c - '0' + 0xFF10))),
        "0.0" => (n / 10.0).ToString("0.0", CultureInfo.InvariantCulture),
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    private static Gen<string> Digits(int count) =>
        Gen.Choose(0, 9).ArrayOf(count).Select(d => string.Concat(d));

    private static Gen<string> Word(int min, int max) =>
        from length in Gen.Choose(min, max)
        from letters in Gen.Elements("abcdefghijklmnopqrstuvwxyz".ToCharArray()).ArrayOf(length)
        select new string(letters);

    private static string Render(string value, int[] groups, string separator)
    {
        var parts = new List<string>();
        var at = 0;
        foreach (var size in groups)
        {
            parts.Add(value.Substring(at, Math.Min(size, value.Length - at)));
            at += size;
        }

        return string.Join(separator, parts);
    }

    private static string WithLuhn(string digits)
    {
        for (var check = 0; check <= 9; check++)
        {
            var candidate = digits + check.ToString(CultureInfo.InvariantCulture);
            if (PiiValidators.CreditCard(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("no Luhn check digit");
    }

    private static string IbanCheckDigits(string country, string bban)
    {
        var remainder = 0;
        foreach (var c in bban + country + "00")
        {
            remainder = char.IsLetter(c) ? ((remainder * 100) + (c - 'A' + 10)) % 97 : ((remainder * 10) + (c - '0')) % 97;
        }

        return (98 - remainder).ToString("00", CultureInfo.InvariantCulture);
    }

    private static string WithoutPlaceholders(string text) =>
        Enum.GetValues<PiiEntity>().Aggregate(text, (current, kind) => current.Replace(kind.Placeholder(), string.Empty, StringComparison.Ordinal));

    private static string Compact(string text) =>
        string.Concat(text.Where(c => c is not (' ' or '-' or '.' or '/')));

    private static string Escape(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text)
        {
            builder.Append(c is >= ' ' and < '\u007F' ? c.ToString() : $"\\u{(int)c:X4}");
        }

        return builder.ToString();
    }

    public sealed record Sample(PiiEntity Kind, string Entity, string Before, string After)
    {
        public string Text => Before + Entity + After;

        public override string ToString() => $"{Kind}: {Escape(Text)}";
    }
}
