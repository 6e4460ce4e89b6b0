using System.Globalization;
using System.Text;
using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Core.Tests.Redaction;

/// <summary>
/// A generated corpus of the ways each entity kind is written: every separator class the normaliser knows × the
/// groupings people use × surrounding text. Every variant must come out as exactly the surrounding text around one
/// placeholder; the look-alikes at the end must come out as the very same string.
/// </summary>
// One collection: the adversarial-input tests guard against hangs with the match timeout, so the CPU-heavy corpus and
// property tests do not run beside them.
[Collection("PiiRedactor")]
public class PiiFormatCorpusTests
{
    private static readonly HashSet<PiiEntity> All = [.. Enum.GetValues<PiiEntity>()];

    private static readonly (string Name, string Text)[] Spaces =
    [
        ("space", " "), ("two spaces", "  "), ("no-break space", "\u00A0"), ("narrow no-break space", "\u202F"),
        ("thin space", "\u2009"), ("em space", "\u2003"), ("ideographic space", "\u3000"), ("tab", "\t"), ("line feed", "\n"),
        ("CR LF", "\r\n"), ("line separator", "\u2028"), ("space and line feed", " \n"),
    ];

    private static readonly (string Name, string Text)[] Dashes =
    [
        ("hyphen-minus", "-"), ("U+2010 hyphen", "\u2010"), ("U+2011 non-breaking hyphen", "\u2011"), ("U+2012 figure dash", "\u2012"),
        ("U+2013 en dash", "\u2013"), ("U+2014 em dash", "\u2014"), ("U+2015 horizontal bar", "\u2015"), ("U+2212 minus", "\u2212"),
        ("U+FE58 small em dash", "\uFE58"), ("U+FE63 small hyphen-minus", "\uFE63"), ("U+FF0D full-width hyphen-minus", "\uFF0D"),
        ("spaced hyphen", " - "), ("spaced en dash", " \u2013 "), ("soft hyphen then hyphen", "\u00AD-"),
    ];

    private static readonly (string Name, string Text)[] Dots =
    [
        ("full stop", "."), ("U+FF0E full-width full stop", "\uFF0E"), ("U+2024 one dot leader", "\u2024"), ("U+FE52 small full stop", "\uFE52"),
        ("U+00B7 middle dot", "\u00B7"),
    ];

    private static readonly (string Name, string Text)[] Slashes =
    [
        ("solidus", "/"), ("U+2044 fraction slash", "\u2044"), ("U+2215 division slash", "\u2215"), ("U+FF0F full-width solidus", "\uFF0F"),
        ("spaced solidus", " / "),
    ];

    private static readonly (string Name, string Text)[] Invisible =
    [
        ("soft hyphen", "\u00AD"), ("zero-width space", "\u200B"), ("zero-width non-joiner", "\u200C"), ("zero-width joiner", "\u200D"),
        ("word joiner", "\u2060"), ("byte-order mark", "\uFEFF"),
    ];

    private static readonly string[] Surroundings = ["{0}", "see {0} now", "({0})", "note:\n{0}\nend", "«{0}».", "{0}, then"];

    public static TheoryData<string, string, string> Variants()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (label, text, entity) in Entities())
        {
            foreach (var surrounding in Surroundings)
            {
                data.Add(label, string.Format(CultureInfo.InvariantCulture, surrounding, text), string.Format(CultureInfo.InvariantCulture, surrounding, entity.Placeholder()));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Redact_FormatVariant_OnlyTheEntityReplaced(string label, string text, string expected)
    {
        var result = PiiRedactor.Redact(text, All);

        Assert.True(expected == result.Text, $"{label}: expected «{expected}», got «{result.Text}»");
        Assert.Equal(1, result.Counts.Values.Sum());
    }

    [Theory]
    [InlineData("version 1.2.3 and v10.0.19045")]
    [InlineData("on 2024-01-15, 15.01.2024, 01/15/2024 and 2024\u201001\u201015")]
    [InlineData("at 2024-01-15T10:30:00Z for 12:30:45")]
    [InlineData("order 12345 of 2024 \u2013 invoice 987654")]
    [InlineData("pages 10 \u2013 20 and 30\u201340, chapters 1 - 4")]
    [InlineData("a well\u2010known, much\u2011loved \u2014 if over\u00ADused \u2014 phrase")]
    [InlineData("room 101 - 3rd floor, desk 12 / 4")]
    [InlineData("in 2023 we sold 1 500 000 units at 1.299,00 EUR")]
    [InlineData("years 2019 - 2020 - 2021 - 2022")]
    [InlineData("ISBN 978-3-16-148410-0")]
    [InlineData("id de305d54-75b4-431b-adb2-eb6b9e546014")]
    [InlineData("sha 3f786850e387550fdab836ed7e6dc881de23001b")]
    [InlineData("release 1.0.0-beta.1 on node 10.0")]
    [InlineData("ext 555-1234 or 555\u20131234")]
    [InlineData("plain 5551234567 and 555\u00AD123\u00AD4567")]
    [InlineData("ratio 1/2 cup, 3/4 done, score 5 / 10")]
    [InlineData("ip 256.1.1.1 or 1.2.3.4.5 or 999.001.002.003")]
    [InlineData("card 4111\u20131111\u20131111\u20131112")]
    [InlineData("iban DE88\u20103704\u20100044\u20100532\u20100130\u201000")]
    [InlineData("ssn 000\u201312\u20133456 and 123\u201000\u20104567")]
    [InlineData("user at example dot com, and \uFF20 alone")]
    [InlineData("Zo\u00EB\u00A0M\u00FCller \u2014 caf\u00E9\u3000\u6771\u4EAC \uFB01ne \uFF21\uFF22\uFF23")]
    [InlineData("temperature \u22125 to \u221210 \u00B0C, \u00B1 2")]
    [InlineData("line one\r\nline two\n\nline  three\u2028four")]
    public void Redact_LookAlike_ReturnsTheSameString(string text) =>
        Assert.Same(text, PiiRedactor.Redact(text, All).Text);

    private static IEnumerable<(string Label, string Text, PiiEntity Entity)> Entities()
    {
        foreach (var variant in Cards())
        {
            yield return (variant.Label, variant.Text, PiiEntity.CreditCard);
        }

        foreach (var variant in Ibans())
        {
            yield return (variant.Label, variant.Text, PiiEntity.Iban);
        }

        foreach (var variant in Grouped("ssn", ["123", "45", "6789"], [.. Dashes, .. Spaces, Dots[0], Dots[1], Dots[2]]))
        {
            yield return (variant.Label, variant.Text, PiiEntity.UsSsn);
        }

        foreach (var variant in Phones())
        {
            yield return (variant.Label, variant.Text, PiiEntity.Phone);
        }

        foreach (var variant in Emails())
        {
            yield return (variant.Label, variant.Text, PiiEntity.Email);
        }

        foreach (var variant in IPv4s())
        {
            yield return (variant.Label, variant.Text, PiiEntity.IPv4);
        }

        yield return ("ipv6 plain", "2001:db8::1", PiiEntity.IPv6);
        yield return ("ipv6 full-width colons", "2001\uFF1Adb8\uFF1A\uFF1A1", PiiEntity.IPv6);
        yield return ("ipv6 soft hyphen", "fe80::1ff:fe23:\u00AD4567:890a", PiiEntity.IPv6);
    }

    private static IEnumerable<(string Label, string Text)> Cards()
    {
        (string, string)[] any = [.. Spaces, .. Dashes, .. Invisible, ("nothing", "")];
        foreach (var variant in Grouped("visa", ["4111", "1111", "1111", "1111"], [.. any, .. Dots]))
        {
            yield return variant;
        }

        foreach (var variant in Grouped("mastercard", ["5555", "5555", "5555", "4444"], any))
        {
            yield return variant;
        }

        foreach (var variant in Grouped("amex 4-6-5", ["3782", "822463", "10005"], [.. any, .. Dots]))
        {
            yield return variant;
        }

        foreach (var variant in Grouped("visa 13", ["4222", "2222", "22222"], any))
        {
            yield return variant;
        }

        yield return ("visa full-width digits", "\uFF14\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11");
        yield return ("visa mathematical bold digits", Bold("4111 1111 1111 1111"));
        yield return ("visa zero-width space between every digit", string.Join("\u200B", "4111111111111111".ToCharArray()));
        yield return ("visa en dash", "4111 1111 1111 1111".Replace(' ', '\u2013'));
    }

    private static IEnumerable<(string Label, string Text)> Ibans()
    {
        (string, string)[] separators = [.. Spaces, .. Dashes[..11], .. Dots, .. Invisible, ("nothing", "")];
        foreach (var iban in new[] { "DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606" })
        {
            var groups = iban.Chunk(4).Select(g => new string(g)).ToArray();
            foreach (var variant in Grouped("iban " + iban[..2], groups, separators))
            {
                yield return variant;
            }

            foreach (var variant in Grouped("iban lower case " + iban[..2], [.. groups.Select(g => g.ToLowerInvariant())], separators[..3]))
            {
                yield return variant;
            }
        }

        // Spaces around a separator are dropped only between digits: DE groups are digits throughout.
        foreach (var variant in Grouped("iban DE", [.. "DE89370400440532013000".Chunk(4).Select(g => new string(g))], Dashes[11..13]))
        {
            yield return variant;
        }
    }

    private static IEnumerable<(string Label, string Text)> Phones()
    {
        (string, string)[] separators = [.. Spaces, .. Dashes, .. Dots, .. Slashes];
        foreach (var variant in Grouped("phone +1", ["+1", "555", "123", "4567"], separators))
        {
            yield return variant;
        }

        foreach (var variant in Grouped("phone +44", ["+44", "20", "7946", "0958"], separators))
        {
            yield return variant;
        }

        foreach (var variant in Grouped("phone national", ["555", "123", "4567"], separators))
        {
            yield return variant;
        }

        foreach (var variant in Grouped("phone DE national", ["030", "12345678"], [.. separators, .. Invisible.Select(i => (i.Name + " and space", i.Text + " "))]))
        {
            yield return variant;
        }

        foreach (var variant in Grouped("phone E.164 invisible", ["+49", "151", "2345", "6789"], Invisible))
        {
            yield return variant;
        }

        yield return ("phone (area) unicode dash", "(555) 123\u20134567");
        yield return ("phone full-width", "\uFF0B\uFF11 \uFF08\uFF15\uFF15\uFF15\uFF09 \uFF11\uFF12\uFF13\uFF0D\uFF14\uFF15\uFF16\uFF17");
        yield return ("phone US international prefix (libphonenumber)", "011 44 20 7946 0958");
        yield return ("phone with extension (libphonenumber)", "(201) 555-0123 ext. 456");
    }

    private static IEnumerable<(string Label, string Text)> Emails()
    {
        string[] addresses = ["alice.smith@example.com", "bob+tag@mail.example.co.uk", "zoe@ex\u00E4mple.de"];
        foreach (var address in addresses)
        {
            yield return ("email " + address, address);
            yield return ("email full-width at " + address, address.Replace('@', '\uFF20'));
            yield return ("email small at " + address, address.Replace('@', '\uFE6B'));
            yield return ("email full-width dots " + address, address.Replace('.', '\uFF0E'));
            foreach (var (name, invisible) in Invisible)
            {
                yield return ($"email {name} " + address, address.Insert(2, invisible).Insert(address.IndexOf('@', StringComparison.Ordinal) + 4, invisible));
            }
        }

        yield return ("email full-width local part", "\uFF41\uFF4C\uFF49\uFF43\uFF45@example.com");
    }

    private static IEnumerable<(string Label, string Text)> IPv4s()
    {
        foreach (var address in new[] { "192.168.1.10", "10.0.0.255", "192.168.001.010", "010.000.000.001" })
        {
            foreach (var variant in Grouped("ipv4 " + address, address.Split('.'), Dots))
            {
                yield return variant;
            }

            yield return ("ipv4 soft hyphen " + address, address.Insert(3, "\u00AD"));
        }
    }

    private static IEnumerable<(string Label, string Text)> Grouped(string name, string[] groups, IEnumerable<(string Name, string Text)> separators)
    {
        foreach (var (separator, text) in separators)
        {
            yield return ($"{name} / {separator}", string.Join(text, groups));
        }
    }

    private static string Bold(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text)
        {
            builder.Append(c is >= '0' and <= '9' ? char.ConvertFromUtf32(0x1D7CE + (c - '0')) : c.ToString());
        }

        return builder.ToString();
    }
}
