using System.Text.RegularExpressions;

namespace ServerlessServe.Core.Redaction;

/// <summary>
/// Candidate patterns for <see cref="PiiRedactor"/>, run over text already normalised by <see cref="TextNormalizer"/>: every
/// space is <c>' '</c>, every dash <c>'-'</c>, dot and slash look-alikes are <c>'.'</c> and <c>'/'</c>, runs of spaces are
/// one space and invisible characters are gone. Each pattern only finds the shape of an entity; checksums and ranges are
/// checked in code (<see cref="PiiValidators"/>). Every quantifier is bounded and every repeated group ends in a
/// required delimiter, so a match attempt costs a small constant per start position (linear overall), and the match
/// timeout is a second line of defence. <c>\d</c> is any Unicode decimal digit on purpose: full-width or other-script
/// digits must not slip past the redactor; validators read them with their decimal value.
/// </summary>
internal static partial class PiiPatterns
{
    /// <summary>Per-match timeout; an element whose scan exceeds it is replaced wholesale.</summary>
    public const int MatchTimeoutMilliseconds = 1000;

    private const RegexOptions Options = RegexOptions.CultureInvariant;

    // local@label.label.tld — the local part is the whole run of local-part characters before '@' (matched from the
    // start of its run, which keeps the scan linear), however long: a run longer than a mailbox's 64 characters (a
    // reply token, or text glued to the address) is redacted with it, never left whole. Up to 16 labels, an alphabetic
    // TLD of up to 63 letters. The local part takes the atext characters names are written with ("o'brien",
    // "first&last", "x!y"), not those of URLs ('/', '?', '='), so a query string is not swallowed. A dash may follow
    // the TLD: every dash is '-' once normalised, and "john@example.com—today" must still be found.
    [GeneratedRegex(@"(?<![\w.%+'&!#$*^~-])[\w.%+'&!#$*^~-]+@(?:[\w-]{1,63}\.){1,16}\p{L}{2,63}(?!\w)", Options, MatchTimeoutMilliseconds)]
    public static partial Regex Email();

    // Another address glued on right where one ends ("bob@example.com-alice@corp.org", or ".alice@corp.org", where the
    // first match took "com.alice" for its domain and left "@corp.org"): matched at the first one's end (\G), with a local
    // part of what follows, possibly none. The address scan's non-overlapping matches otherwise released it whole or in
    // part (found in review 2026-12-07).
    [GeneratedRegex(@"\G[\w.%+'&!#$*^~-]*@(?:[\w-]{1,63}\.){1,16}\p{L}{2,63}(?!\w)", Options, MatchTimeoutMilliseconds)]
    public static partial Regex EmailGluedOn();

    // Where a pattern refuses to start or end beside a letter (IBAN, IPv6, phone), the letters of scripts that write
    // words without spaces between them are not counted (\p{Lo}: Han, kana, Hangul, Thai...; \p{Lm}: the long-vowel
    // mark ー): "口座番号はDE89370400440532013000です" holds an IBAN, where "refDE89..." does not.
    //
    // CC + 2 check digits + BBAN in groups of four and a shorter last group, each optionally after one space; or the
    // same grouped by dashes or dots, one kind throughout (so a UUID's mixed grouping is not a candidate). Either case:
    // mod-97 is checked on the upper-cased form.
    [GeneratedRegex(@"(?<![\p{L}\d-[\p{Lo}\p{Lm}]])[A-Za-z]{2}\d{2}(?:(?: ?[A-Za-z\d]{4}){2,7}(?: ?[A-Za-z\d]{1,4})?|(?<sep>[.-])[A-Za-z\d]{4}(?:\k<sep>[A-Za-z\d]{4}){1,6}(?:\k<sep>[A-Za-z\d]{1,4})?)(?![\p{L}\d-[\p{Lo}\p{Lm}]])", Options, MatchTimeoutMilliseconds)]
    public static partial Regex Iban();

    // 13-19 digits, each optionally preceded by one space or dash; not after '+' (that is a phone number). Or grouped by
    // dots in the printed layouts only — 4-4-4-4 with an optional last group of 1-3, or 4-6-4/4-6-5 — since short dotted
    // digit runs are versions and addresses.
    [GeneratedRegex(@"(?<![\d+])\d(?:[ -]?\d){12,18}(?!\d)|(?<![\d+.])\d{4}(?:(?:\.\d{4}){3}(?:\.\d{1,3})?|\.\d{6}\.\d{4,5})(?!\d|\.\d)", Options, MatchTimeoutMilliseconds)]
    public static partial Regex CreditCard();

    // ddd-dd-dddd, or the same with dots or spaces (any Zs) — one separator kind throughout. None may continue a digit
    // run on either side ("1-123-45-6789", "1.123.45.6789", "+33 123 45 6789", "123 45 6789 12"): those are other
    // numbers (addresses, phones), not an SSN. A dash next to a non-digit is punctuation ("SSN—123-45-6789—filed", its
    // em dashes '-' once normalised), not a longer number.
    [GeneratedRegex(@"(?<!\d|\d-)\d{3}-\d{2}-\d{4}(?!\d|-\d)|(?<![\d.]|\d\p{Zs})\d{3}(?:\.\d{2}\.|\p{Zs}\d{2}\p{Zs})\d{4}(?!\d|[.\p{Zs}]\d)", Options, MatchTimeoutMilliseconds)]
    public static partial Regex UsSsn();

    // Hex groups separated by colons (full or compressed), optionally ending in a dotted IPv4; IPAddress.TryParse decides.
    // Not inside another address (after a word character, a dot, a hex group and its colon, or "::"), but after a
    // word's colon ("src:2001:db8::1", "[IPv6:2001:db8::1]"). Up to 8 colon-ended groups: "::2:3:4:5:6:7:8".
    [GeneratedRegex(@"(?<![.\w-[\p{Lo}\p{Lm}]]|(?<![.\w-[\p{Lo}\p{Lm}]])[0-9A-Fa-f]{1,4}:|::)(?:[0-9A-Fa-f]{0,4}:){2,8}(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4})?(?![:\w-[\p{Lo}\p{Lm}]]|\.[0-9])", Options, MatchTimeoutMilliseconds)]
    public static partial Regex IPv6();

    // Dotted quads, leading zeros allowed ("192.168.001.010"), in any script's decimal digits: each part is read as
    // decimal and checked in code.
    [GeneratedRegex(@"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)", Options, MatchTimeoutMilliseconds)]
    public static partial Regex IPv4();

    // Optional +CC, optional (area), then digit groups separated by one space, dot, dash or slash ("030/1234567").
    [GeneratedRegex(@"(?<![+\w-[\p{Lo}\p{Lm}]])(?:\+\d{1,3}[ ./-]?)?(?:\(\d{1,5}\)[ ./-]?)?\d{1,14}(?:[ ./-]\d{1,8}){0,6}(?!\d)", Options, MatchTimeoutMilliseconds)]
    public static partial Regex Phone();

    // A date at the start of a phone candidate: yyyy-mm-dd or dd.mm.yyyy (any of - . / as separator).
    [GeneratedRegex(@"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})(?!\d)", Options, MatchTimeoutMilliseconds)]
    public static partial Regex LeadingDate();
}
