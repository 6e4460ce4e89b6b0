using System.Text;
using System.Text.RegularExpressions;
using PhoneNumbers;

namespace ServerlessServe.Core.Redaction;

/// <summary>
/// Finds personal data in text and replaces it with typed placeholders such as <c>[EMAIL]</c>.
/// </summary>
/// <remarks>
/// Detectors run in a fixed priority order — e-mail, IBAN, credit card, US SSN, IPv6, IPv4, phone — and each span of
/// text belongs to the first detector that claims it, whether or not that entity was requested. So a card number is
/// never reported as a phone number, and an IBAN's digits are never taken for a card. Only spans of requested entities
/// are replaced. Candidates that fail their check (Luhn, mod-97, ranges) are retried without their trailing group, so
/// "card 4111 1111 1111 1111 2024" still finds the card. Digit groups may be separated by any Unicode space (no-break,
/// thin, ideographic), and card groups also by tabs; IBANs may be in lower case; SSNs may use spaces or dots.
/// </remarks>
internal static class PiiRedactor
{
    /// <summary>The regions libphonenumber reads national numbers for unless told otherwise (<see cref="RedactionOptions.PhoneRegions"/>).</summary>
    public static readonly IReadOnlyList<string> DefaultPhoneRegions = ["US"];

    // Candidates libphonenumber may try per region and text: a bound on its work for text full of digit runs.
    private const long PhoneMaxTries = 4096;

    private static readonly PhoneNumberUtil PhoneNumbers = PhoneNumberUtil.GetInstance();

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly Detector[] Detectors =
    [
        new(PiiEntity.Email, PiiPatterns.Email(), static _ => true, TrimGroups: false, SkipRejected: false),
        new(PiiEntity.Iban, PiiPatterns.Iban(), IbanAnyCase, TrimGroups: true, SkipRejected: false),
        new(PiiEntity.CreditCard, PiiPatterns.CreditCard(), PiiValidators.CreditCard, TrimGroups: true, SkipRejected: false),
        new(PiiEntity.UsSsn, PiiPatterns.UsSsn(), PiiValidators.UsSsn, TrimGroups: false, SkipRejected: false),
        new(PiiEntity.IPv6, PiiPatterns.IPv6(), PiiValidators.IPv6, TrimGroups: false, SkipRejected: false),
        new(PiiEntity.IPv4, PiiPatterns.IPv4(), PiiValidators.IPv4, TrimGroups: false, SkipRejected: false),

        // A digit-group run that is not a phone (too long: an account or a failed IBAN) hides no phone inside it,
        // except after a leading date ("2024-01-15 555-123-4567").
        new(PiiEntity.Phone, PiiPatterns.Phone(), PiiValidators.Phone, TrimGroups: true, SkipRejected: true),
    ];

    private delegate bool Validator(ReadOnlySpan<char> candidate);

    /// <summary>Redacts <paramref name="text"/> and returns the redacted text with the count of each placeholder name.</summary>
    public static PiiRedactionResult Redact(string text, IReadOnlySet<PiiEntity> entities, IReadOnlyList<string>? phoneRegions = null)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var redacted = Redact(text, entities, counts, phoneRegions);
        return new PiiRedactionResult(redacted, counts);
    }

    /// <summary>
    /// Replaces every requested entity in <paramref name="text"/> with its placeholder and adds one to
    /// <paramref name="counts"/>[placeholder name] per replacement. Text that cannot be scanned within the match timeout is
    /// replaced wholesale by <c>[REDACTED]</c> (counted as <see cref="PiiEntities.Unscannable"/>). Phone numbers are also
    /// looked for by libphonenumber in the national formats of <paramref name="phoneRegions"/> (null:
    /// <see cref="DefaultPhoneRegions"/>).
    /// </summary>
    public static string Redact(string text, IReadOnlySet<PiiEntity> entities, IDictionary<string, int> counts, IReadOnlyList<string>? phoneRegions = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(counts);
        if (entities.Count == 0 || text.Length == 0)
        {
            return text;
        }

        var normalized = TextNormalizer.Normalize(text);
        List<Span> spans;
        try
        {
            spans = FindSpans(normalized.Text);
            if (entities.Contains(PiiEntity.Phone))
            {
                AddLibPhoneNumbers(normalized.Text, phoneRegions ?? DefaultPhoneRegions, spans);
            }
        }
        catch (RegexMatchTimeoutException)
        {
            Increment(counts, PiiEntities.Unscannable);
            return "[" + PiiEntities.Unscannable + "]";
        }

        if (spans.Count == 0)
        {
            return text;
        }

        spans.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        var builder = new StringBuilder(text.Length);
        var position = 0;
        foreach (var span in spans)
        {
            if (!entities.Contains(span.Entity))
            {
                continue;
            }

            var start = normalized.OriginalStart(span.Start);
            builder.Append(text, position, start - position).Append(span.Entity.Placeholder());
            position = normalized.OriginalEnd(span.Start + span.Length);
            Increment(counts, span.Entity.PlaceholderName());
        }

        return position == 0 ? text : builder.Append(text, position, text.Length - position).ToString();
    }

    /// <summary>
    /// Redacts one BYTES element. Invalid UTF-8 cannot be scanned reliably, so it is replaced wholesale by
    /// <c>[BINARY]</c> (counted as <see cref="PiiEntities.Binary"/>) whenever any entity is requested. Returns the input
    /// array itself when nothing changed (it is never written to).
    /// </summary>
    public static byte[] RedactUtf8(byte[] utf8, IReadOnlySet<PiiEntity> entities, IDictionary<string, int> counts, IReadOnlyList<string>? phoneRegions = null)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(counts);
        if (entities.Count == 0 || utf8.Length == 0)
        {
            return utf8;
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException)
        {
            Increment(counts, PiiEntities.Binary);
            return Encoding.ASCII.GetBytes("[" + PiiEntities.Binary + "]");
        }

        var redacted = Redact(text, entities, counts, phoneRegions);
        return ReferenceEquals(redacted, text) ? utf8 : StrictUtf8.GetBytes(redacted);
    }

    private static List<Span> FindSpans(string text)
    {
        var spans = new List<Span>();
        bool[]? claimed = null;
        foreach (var detector in Detectors)
        {
            var start = 0;
            while (start < text.Length)
            {
                var match = detector.Pattern.Match(text, start);
                if (!match.Success)
                {
                    break;
                }

                var candidate = text.AsSpan(match.Index, match.Length);
                var length = detector.TrimGroups ? ValidLength(candidate, detector.Validate) : detector.Validate(candidate) ? candidate.Length : 0;
                var overlaps = length > 0 && Overlaps(claimed, match.Index, length);
                if (length > 0 && !overlaps)
                {
                    claimed ??= new bool[text.Length];
                    claimed.AsSpan(match.Index, length).Fill(true);
                    spans.Add(new Span(match.Index, length, detector.Entity));
                    start = match.Index + length;
                }
                else if (detector.SkipRejected && !overlaps)
                {
                    var date = PiiPatterns.LeadingDate().Match(text, match.Index, match.Length);
                    start = match.Index + (date.Success ? date.Length : match.Length);
                }
                else
                {
                    // Not an entity (or inside one already found): look again from the next character, so an entity
                    // that starts inside a rejected candidate is still found.
                    start = match.Index + 1;
                }
            }
        }

        return spans;
    }

    /// <summary>
    /// Adds the phone numbers libphonenumber finds (valid for their region's numbering plan) that the pattern detector
    /// missed: national formats of the given regions with other digit counts, international prefixes (<c>011</c> from the
    /// US), extensions. A match that overlaps only phone spans replaces them with their union; one that overlaps any other
    /// entity is dropped (that span is already claimed). A bare digit run is an id, not a phone, as for the pattern.
    /// </summary>
    private static void AddLibPhoneNumbers(string text, IReadOnlyList<string> regions, List<Span> spans)
    {
        if (regions.Count == 0 || PiiValidators.CountDigits(text) < 7)
        {
            return;
        }

        foreach (var region in regions)
        {
            foreach (var match in PhoneNumbers.FindNumbers(text, region, PhoneNumberUtil.Leniency.VALID, PhoneMaxTries))
            {
                var (start, end) = WithoutUnpairedBrackets(text, match.Start, match.Start + match.Length);
                var candidate = text.AsSpan(start, end - start);
                if (candidate[0] != '+' && candidate.IndexOfAny(" .-(/") < 0)
                {
                    continue;
                }

                var overlapping = spans.FindAll(s => s.Start < end && start < s.Start + s.Length);
                if (overlapping.Exists(s => s.Entity != PiiEntity.Phone))
                {
                    continue;
                }

                foreach (var phone in overlapping)
                {
                    start = Math.Min(start, phone.Start);
                    end = Math.Max(end, phone.Start + phone.Length);
                    spans.Remove(phone);
                }

                spans.Add(new Span(start, end - start, PiiEntity.Phone));
            }
        }
    }

    /// <summary>
    /// libphonenumber keeps an opening bracket of the text around a number in its match (<c>(+44 20 7946 0958)</c>); a
    /// bracket that does not pair up inside the match, and the spaces after it, stay in the text.
    /// </summary>
    private static (int Start, int End) WithoutUnpairedBrackets(string text, int start, int end)
    {
        while (end - start > 1 && text[start] == '(' && text.AsSpan(start, end - start).Count('(') > text.AsSpan(start, end - start).Count(')'))
        {
            start++;
            while (start < end && text[start] == ' ')
            {
                start++;
            }
        }

        while (end - start > 1 && text[end - 1] == ')' && text.AsSpan(start, end - start).Count(')') > text.AsSpan(start, end - start).Count('('))
        {
            end--;
        }

        return (start, end);
    }

    /// <summary>The longest valid prefix of the candidate that ends at a group boundary, or 0.</summary>
    private static int ValidLength(ReadOnlySpan<char> candidate, Validator validate)
    {
        while (candidate.Length > 0)
        {
            if (validate(candidate))
            {
                return candidate.Length;
            }

            var separator = LastSeparator(candidate);
            if (separator <= 0)
            {
                return 0;
            }

            candidate = candidate[..separator];
            while (candidate.Length > 0 && IsGroupSeparator(candidate[^1]))
            {
                candidate = candidate[..^1];
            }
        }

        return 0;
    }

    /// <summary>
    /// An IBAN may be written in lower or mixed case and grouped with any kind of space: mod-97 is checked on the
    /// compact, upper-cased form.
    /// </summary>
    private static bool IbanAnyCase(ReadOnlySpan<char> candidate)
    {
        // ISO 13616 allows at most 34 characters; one more is enough for the validator to refuse.
        Span<char> compact = stackalloc char[35];
        var length = 0;
        foreach (var c in candidate)
        {
            if (IsGroupSeparator(c))
            {
                continue;
            }

            if (length == compact.Length)
            {
                return false;
            }

            compact[length++] = c is >= 'a' and <= 'z' ? (char)(c - 'a' + 'A') : c;
        }

        return PiiValidators.Iban(compact[..length]);
    }

    private static int LastSeparator(ReadOnlySpan<char> candidate)
    {
        for (var i = candidate.Length - 1; i >= 0; i--)
        {
            if (IsGroupSeparator(candidate[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>What may separate digit groups in a normalised candidate: a space, a dot, a dash or a slash.</summary>
    private static bool IsGroupSeparator(char c) => c is ' ' or '.' or '-' or '/';

    private static bool Overlaps(bool[]? claimed, int start, int length) =>
        claimed is not null && claimed.AsSpan(start, length).Contains(true);

    private static void Increment(IDictionary<string, int> counts, string key) =>
        counts[key] = counts.TryGetValue(key, out var current) ? current + 1 : 1;

    private readonly record struct Span(int Start, int Length, PiiEntity Entity);

    private sealed record Detector(PiiEntity Entity, Regex Pattern, Validator Validate, bool TrimGroups, bool SkipRejected);
}
