using System.Text;
using System.Text.RegularExpressions;
using PhoneNumbers;

namespace ServerlessServe.Core.Redaction;

/// <summary>
/// Finds personal data in text and replaces it with typed placeholders such as <c>[EMAIL]</c>.
/// </summary>
/// <remarks>
/// The text is first normalised (<see cref="TextNormalizer"/>: NFKC's ASCII forms, one character per separator class,
/// invisible characters removed) and matches are mapped back to the span of the original they came from, so text
/// without an entity comes back as the same instance. Detectors run in a fixed priority order — e-mail, IBAN, credit
/// card, US SSN, IPv6, IPv4, phone, then libphonenumber for phones — and each span of text belongs to the first detector
/// that claims it, whether or not that entity was requested. So a card number is never reported as a phone number, and
/// an IBAN's digits are never taken for a card. Only spans of requested entities are replaced, and the requested
/// entities inside an unrequested e-mail address or IPv6 address (a phone number as the address's local part), or a
/// phone number or SSN inside a longer unrequested card number. Candidates that fail their
/// check (Luhn, mod-97, ranges) are retried without their trailing group, so "card 4111 1111 1111 1111 2024" still finds
/// the card.
/// </remarks>
internal static class PiiRedactor
{
    /// <summary>The regions libphonenumber reads national numbers for unless told otherwise (<see cref="RedactionOptions.PhoneRegions"/>).</summary>
    public static readonly IReadOnlyList<string> DefaultPhoneRegions = ["US"];

    // Candidates libphonenumber may try per region and piece of text (a piece holds at most a few numbers): a bound on its
    // work for text full of digit runs.
    private const long PhoneMaxTries = 32;

    // Longest piece of text given to libphonenumber at once, and the step between pieces (the overlap is their difference).
    private const int WindowLength = 96;
    private const int WindowStep = 48;

    // Pieces libphonenumber reads per text, at most (about 3 KB of digit-dense text); past them only the pattern runs, so
    // text made of digit runs costs libphonenumber a fixed amount, not its length.
    private const int MaxWindows = 64;

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
    public static string Redact(string text, IReadOnlySet<PiiEntity> entities, IDictionary<string, int> counts, IReadOnlyList<string>? phoneRegions = null, long deadline = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(counts);
        if (entities.Count == 0 || text.Length == 0)
        {
            return text;
        }

        if (Find(text, entities, phoneRegions, deadline) is not { } found)
        {
            Increment(counts, PiiEntities.Unscannable);
            return "[" + PiiEntities.Unscannable + "]";
        }

        if (found.Count == 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        var position = 0;
        foreach (var (start, end, entity) in found)
        {
            builder.Append(text, position, start - position).Append(entity.Placeholder());
            position = end;
            Increment(counts, entity.PlaceholderName());
        }

        return builder.Append(text, position, text.Length - position).ToString();
    }

    /// <summary>
    /// The requested entities in <paramref name="text"/>, as ranges of the original text in ascending order; null when
    /// the text cannot be scanned within the match timeout, or before <paramref name="deadline"/> (a
    /// <see cref="System.Diagnostics.Stopwatch"/> timestamp): the caller then fails closed.
    /// </summary>
    public static IReadOnlyList<(int Start, int End, PiiEntity Entity)>? Find(string text, IReadOnlySet<PiiEntity> entities, IReadOnlyList<string>? phoneRegions = null, long deadline = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(entities);
        if (entities.Count == 0 || text.Length == 0)
        {
            return [];
        }

        NormalizedText normalized;
        try
        {
            // Before the normalised copy and its maps (about ten bytes a character): a text reached after the scan's
            // time is up is replaced unread, never first copied.
            PastDeadline(deadline);
            normalized = TextNormalizer.Normalize(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }

        var found = new List<(int Start, int End, PiiEntity Entity)>();
        // Card spans read again with libphonenumber, at most: past them, by the patterns alone.
        var rescans = MaxWindows;
        try
        {
            foreach (var span in Scan(normalized.Text, entities, phoneRegions, deadline, skip: null))
            {
                if (entities.Contains(span.Entity))
                {
                    found.Add((normalized.OriginalStart(span.Start), normalized.OriginalEnd(span.Start + span.Length), span.Entity));
                }
                else if (span.Entity is PiiEntity.Email or PiiEntity.IPv6
                    || (span.Entity == PiiEntity.CreditCard && (entities.Contains(PiiEntity.Phone) || entities.Contains(PiiEntity.UsSsn))))
                {
                    // An entity the policy leaves alone can hold one it asks for: a phone or card number as an e-mail's
                    // local part (an SMS gateway's address, 2015550123@vtext.com), an IPv4 address as its domain literal
                    // or inside an IPv6 address (::ffff:192.0.2.1), and a phone or SSN followed by more digits that pass
                    // Luhn together ("555-123-4567 2024", "123-45-6789 1985": released whole when cards were not asked
                    // for; found in review 2026-12-07). Its text is read again without its own detector, and only the
                    // requested entities inside are replaced; inside a card, only ones shorter than the card (a card
                    // number is not a phone number), read by the patterns alone once the rescans have used up
                    // libphonenumber's budget for the text. An IBAN's or an IPv4 address's digits are not read again.
                    var inside = normalized.Text.Substring(span.Start, span.Length);
                    var card = span.Entity == PiiEntity.CreditCard;
                    var inners = card && --rescans < 0
                        ? FindSpans(inside, deadline, skip: span.Entity)
                        : Scan(inside, entities, phoneRegions, deadline, skip: span.Entity);
                    if (span.Entity == PiiEntity.Email && entities.Contains(PiiEntity.Phone) && inners.Count == 0
                        && GatewayPhone(inside, phoneRegions ?? DefaultPhoneRegions) is { Length: > 0 } phone)
                    {
                        inners.Add(new Span(phone.Offset, phone.Length, PiiEntity.Phone));
                    }

                    foreach (var inner in inners)
                    {
                        if (entities.Contains(inner.Entity) && (!card || inner.Length < span.Length))
                        {
                            var start = span.Start + inner.Start;
                            found.Add((normalized.OriginalStart(start), normalized.OriginalEnd(start + inner.Length), inner.Entity));
                        }
                    }
                }
            }
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }

        return Disjoint(found);
    }

    // The ranges in ascending order, overlapping ones made one (the first's entity). Two entities found apart in the
    // normalised text can overlap in the original, where both ends map back to one character of a multi-character fold
    // ("a℅ne" reads "ac/one"): replaced as they were, the second began before the first ended, and the redact stage
    // threw (a 500; found in review 2026-12-07).
    private static List<(int Start, int End, PiiEntity Entity)> Disjoint(List<(int Start, int End, PiiEntity Entity)> found)
    {
        if (found.Count < 2)
        {
            return found;
        }

        found.Sort(static (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.End.CompareTo(a.End));
        var disjoint = new List<(int Start, int End, PiiEntity Entity)>(found.Count) { found[0] };
        for (var i = 1; i < found.Count; i++)
        {
            var last = disjoint[^1];
            if (found[i].Start < last.End)
            {
                disjoint[^1] = (last.Start, Math.Max(last.End, found[i].End), last.Entity);
            }
            else
            {
                disjoint.Add(found[i]);
            }
        }

        return disjoint;
    }

    // Every entity's spans in normalised text, in ascending order and apart from each other (each span belongs to the
    // first detector that claims it); the detector of <paramref name="skip"/> does not run.
    private static List<Span> Scan(string text, IReadOnlySet<PiiEntity> entities, IReadOnlyList<string>? phoneRegions, long deadline, PiiEntity? skip)
    {
        var spans = FindSpans(text, deadline, skip);
        if (entities.Contains(PiiEntity.Phone))
        {
            PastDeadline(deadline);
            AddLibPhoneNumbers(text, phoneRegions ?? DefaultPhoneRegions, spans);
        }

        spans.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return spans;
    }

    /// <summary>
    /// Redacts one BYTES element. Invalid UTF-8 cannot be scanned reliably, so it is replaced wholesale by
    /// <c>[BINARY]</c> (counted as <see cref="PiiEntities.Binary"/>) whenever any entity is requested. Returns the input
    /// array itself when nothing changed (it is never written to).
    /// </summary>
    public static byte[] RedactUtf8(byte[] utf8, IReadOnlySet<PiiEntity> entities, IDictionary<string, int> counts, IReadOnlyList<string>? phoneRegions = null, long deadline = long.MaxValue)
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

        var redacted = Redact(text, entities, counts, phoneRegions, deadline);
        return ReferenceEquals(redacted, text) ? utf8 : StrictUtf8.GetBytes(redacted);
    }

    // Past the deadline: read as a match timeout, so the text is replaced, never released unread.
    private static void PastDeadline(long deadline)
    {
        if (deadline != long.MaxValue && System.Diagnostics.Stopwatch.GetTimestamp() > deadline)
        {
            throw new RegexMatchTimeoutException();
        }
    }

    // The characters of an e-mail address's local part (PiiPatterns.Email's class: \w and .%+'&!#$*^~-).
    private static bool IsLocalPartChar(char c) =>
        char.IsLetterOrDigit(c) || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark or System.Globalization.UnicodeCategory.ConnectorPunctuation
        || c is '.' or '%' or '+' or '\'' or '&' or '!' or '#' or '$' or '*' or '^' or '~' or '-';

    private static List<Span> FindSpans(string text, long deadline, PiiEntity? skip)
    {
        var spans = new List<Span>();
        bool[]? claimed = null;
        foreach (var detector in Detectors)
        {
            if (detector.Entity == skip)
            {
                continue;
            }

            var start = 0;
            while (start < text.Length)
            {
                PastDeadline(deadline);
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
                    var begin = match.Index;
                    if (detector.Entity == PiiEntity.Email && begin > 0 && text[begin - 1] == '@')
                    {
                        // Matched from just after an '@': the address before it was glued on by a word character
                        // ("john.smith@example.com_x@corp.org" reads "example.com_x@corp.org"), and its local part goes
                        // with it, never released, over as many '@' as came before (review 2026-12-07).
                        begin--;
                        while (begin > 0 && !claimed[begin - 1] && (IsLocalPartChar(text[begin - 1]) || text[begin - 1] == '@'))
                        {
                            begin--;
                        }
                    }

                    claimed.AsSpan(begin, match.Index + length - begin).Fill(true);
                    spans.Add(new Span(begin, match.Index + length - begin, detector.Entity));
                    start = match.Index + length;
                    if (detector.Entity == PiiEntity.Email)
                    {
                        // Addresses glued on where this one ends (PiiPatterns.EmailGluedOn): each a span of its own, so that
                        // each is read as any address is (a phone number as its local part, say).
                        for (Match glued; start < text.Length && (glued = PiiPatterns.EmailGluedOn().Match(text, start)).Success && glued.Length > 0 && !Overlaps(claimed, glued.Index, glued.Length);)
                        {
                            PastDeadline(deadline);
                            claimed.AsSpan(glued.Index, glued.Length).Fill(true);
                            spans.Add(new Span(glued.Index, glued.Length, detector.Entity));
                            start = glued.Index + glued.Length;
                        }
                    }
                }
                else if (detector.SkipRejected && !overlaps)
                {
                    // A number written as a phone after a word's digits ("Suite 200 555-123-4567"): the rejected run's
                    // tail after a space, when it is grouped with the punctuation phones are written with, is a
                    // candidate of its own. A run grouped by spaces alone stays one number (an account, a failed IBAN).
                    if (PhoneAfterSpace(candidate, detector.Validate) is { } tail && !Overlaps(claimed, match.Index + tail.Offset, tail.Length))
                    {
                        claimed ??= new bool[text.Length];
                        claimed.AsSpan(match.Index + tail.Offset, tail.Length).Fill(true);
                        spans.Add(new Span(match.Index + tail.Offset, tail.Length, detector.Entity));
                        start = match.Index + tail.Offset + tail.Length;
                        continue;
                    }

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
    /// Where an e-mail address's local part is and how long, when it is a phone number alone, as an e-mail-to-SMS gateway's
    /// addresses are (<c>2015550123@vtext.com</c>): 7 to 15 digits, a leading <c>+</c> allowed, that libphonenumber
    /// takes for a valid number of one of <paramref name="regions"/> (or, with <c>+</c>, of its own country); otherwise none.
    /// Written bare, such a run is an id elsewhere; before a gateway's <c>@</c> it is the number.
    /// </summary>
    private static (int Offset, int Length) GatewayPhone(string email, IReadOnlyList<string> regions)
    {
        // The first '@' ends the local part (a span may run on over addresses glued on, or start with the '-' or '.' that
        // glued it on: review 2026-12-07).
        var at = email.IndexOf('@');
        var offset = 0;
        while (offset < at && email[offset] is '-' or '.')
        {
            offset++;
        }

        var local = at > offset ? email.AsSpan(offset, at - offset) : [];
        var digits = local.StartsWith("+") ? local[1..] : local;
        if (digits.Length is < 7 or > 15 || digits.ContainsAnyExceptInRange('0', '9'))
        {
            return default;
        }

        foreach (var region in local[0] == '+' ? ["ZZ"] : regions)
        {
            try
            {
                if (PhoneNumbers.IsValidNumber(PhoneNumbers.Parse(local.ToString(), region)))
                {
                    return (offset, local.Length);
                }
            }
            catch (NumberParseException)
            {
                // Not a number of that region.
            }
        }

        return default;
    }

    /// <summary>
    /// Adds the phone numbers libphonenumber finds (valid for their region's numbering plan) that the pattern detector
    /// missed: national formats of the given regions with other digit counts, international prefixes (<c>011</c> from the
    /// US), extensions. A match that overlaps only phone spans replaces them with their union; one that overlaps any other
    /// entity is dropped (that span is already claimed). A bare digit run is an id, not a phone, as for the pattern.
    /// </summary>
    private static void AddLibPhoneNumbers(string text, IReadOnlyList<string> regions, List<Span> spans)
    {
        if (regions.Count == 0)
        {
            return;
        }

        foreach (var (windowStart, windowEnd) in DigitWindows(text))
        {
            var window = text.Substring(windowStart, windowEnd - windowStart);
            foreach (var region in regions)
            {
                foreach (var match in PhoneNumbers.FindNumbers(window, region, PhoneNumberUtil.Leniency.VALID, PhoneMaxTries))
                {
                    var (start, end) = WithoutUnpairedBrackets(text, windowStart + match.Start, windowStart + match.Start + match.Length);
                    AddPhone(text, start, end, spans);
                }
            }
        }
    }

    private static void AddPhone(string text, int start, int end, List<Span> spans)
    {
        var candidate = text.AsSpan(start, end - start);
        if (candidate[0] != '+' && candidate.IndexOfAny(" .-(/") < 0)
        {
            return;
        }

        var overlapping = spans.FindAll(s => s.Start < end && start < s.Start + s.Length);
        if (overlapping.Exists(s => s.Entity != PiiEntity.Phone))
        {
            return;
        }

        foreach (var phone in overlapping)
        {
            start = Math.Min(start, phone.Start);
            end = Math.Max(end, phone.Start + phone.Length);
            spans.Remove(phone);
        }

        spans.Add(new Span(start, end - start, PiiEntity.Phone));
    }

    /// <summary>
    /// The parts of the text libphonenumber needs to read: each run of digits and phone punctuation (<c>+ ( ) . / -</c>,
    /// spaces) that holds at least 7 digits, widened by 8 characters before (a prefix such as <c>tel:</c>) and 16 after (an
    /// extension such as <c> ext. 1234</c>), overlapping windows merged, then cut into pieces of at most 96 characters
    /// overlapping by 48, the first 64 pieces only. Scanning only these bounds libphonenumber's cost per text.
    /// </summary>
    private static List<(int Start, int End)> DigitWindows(string text)
    {
        var windows = new List<(int Start, int End)>();
        var i = 0;
        while (i < text.Length && windows.Count < MaxWindows)
        {
            if (!PiiValidators.IsDigit(text[i]))
            {
                i++;
                continue;
            }

            var end = i;
            var digits = 0;
            while (end < text.Length && (PiiValidators.IsDigit(text[end]) || text[end] is ' ' or '+' or '(' or ')' or '.' or '-' or '/'))
            {
                digits += PiiValidators.IsDigit(text[end]) ? 1 : 0;
                end++;
            }

            if (digits >= 7)
            {
                var start = Math.Max(0, i - 8);
                var stop = Math.Min(text.Length, end + 16);
                if (windows.Count > 0 && windows[^1].End >= start)
                {
                    start = windows[^1].Start;
                    windows.RemoveAt(windows.Count - 1);
                }

                // libphonenumber's matcher is not linear in its input ("1 1 1 …" took seconds per 200 KB): long windows
                // are read in overlapping pieces; a number (at most ~40 characters with an extension) lies whole in one.
                for (var piece = start; windows.Count < MaxWindows; piece += WindowStep)
                {
                    windows.Add((piece, Math.Min(stop, piece + WindowLength)));
                    if (piece + WindowLength >= stop)
                    {
                        break;
                    }
                }
            }

            i = end;
        }

        return windows;
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
    // The first tail of a rejected phone candidate that starts after a space, holds '-', '.', '/' or '(' and is valid.
    private static (int Offset, int Length)? PhoneAfterSpace(ReadOnlySpan<char> candidate, Validator validate)
    {
        for (var i = 0; i < candidate.Length - 1; i++)
        {
            if (candidate[i] != ' ')
            {
                continue;
            }

            var tail = candidate[(i + 1)..];
            if (tail.IndexOfAny("-./(") >= 0 && ValidLength(tail, validate) is > 0 and var length)
            {
                return (i + 1, length);
            }
        }

        return null;
    }

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
