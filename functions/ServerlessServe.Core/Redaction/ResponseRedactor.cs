using Microsoft.Extensions.Options;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Redaction;

/// <summary>
/// The redact stage: applies a model policy's output rules (<see cref="OutputHardener"/>) and PII redaction of BYTES
/// outputs (<see cref="PiiRedactor"/>) to the outputs of one inference. Stateless and thread-safe.
/// </summary>
/// <remarks>
/// Fails closed: an output rule that cannot be applied (a non-floating-point output, a wrong rank, too few labels)
/// throws <see cref="InvalidOperationException"/> rather than releasing the output unhardened.
/// </remarks>
public sealed class ResponseRedactor
{
    private readonly IReadOnlyList<string> _phoneRegions;
    private readonly long _maxScanTicks;

    /// <summary>A redactor with the default options (<see cref="RedactionOptions"/>).</summary>
    public ResponseRedactor()
        : this(Microsoft.Extensions.Options.Options.Create(new RedactionOptions()))
    {
    }

    /// <summary>A redactor with <paramref name="options"/> (the phone regions libphonenumber reads).</summary>
    public ResponseRedactor(IOptions<RedactionOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _phoneRegions = [.. options.Value.PhoneRegions];
        _maxScanTicks = (long)(options.Value.MaxScanTime.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
    }

    /// <summary>Count key for the number of outputs changed by an output rule or by the policy's default rounding.</summary>
    public const string HardenedOutputs = "hardened_outputs";

    /// <summary>Returns the outputs as they may be released, and counts by placeholder name plus <see cref="HardenedOutputs"/>.</summary>
    public RedactionResult Apply(IReadOnlyList<Tensor> outputs, ModelPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(policy);

        var entities = policy.Redact.ToHashSet();
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + _maxScanTicks;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var released = new List<Tensor>(outputs.Count + 1);
        var hardened = 0;
        foreach (var output in outputs)
        {
            if (policy.Outputs.TryGetValue(output.Name, out var rule))
            {
                Harden(output, rule, released);
                hardened++;
            }
            else if (output.DataType.IsFloatingPoint() && policy.DefaultRound is int digits)
            {
                released.Add(OutputHardener.Round(output, digits));
                hardened++;
            }
            else if (output.DataType == TensorDataType.Bytes && entities.Count > 0)
            {
                released.Add(RedactBytes(output, entities, counts, deadline));
            }
            else
            {
                released.Add(output);
            }
        }

        EnsureUniqueNames(released);
        if (hardened > 0)
        {
            counts[HardenedOutputs] = hardened;
        }

        return new RedactionResult(released, counts);
    }

    private static void Harden(Tensor output, OutputRule rule, List<Tensor> released)
    {
        if (!output.DataType.IsFloatingPoint())
        {
            throw new InvalidOperationException("An output rule applies only to FP16, FP32 or FP64 outputs.");
        }

        switch (rule.Mode)
        {
            case OutputMode.Scores:
                released.Add(rule.Round is int digits ? OutputHardener.Round(output, digits) : output);
                break;
            case OutputMode.TopK:
                var (scores, classes) = OutputHardener.TopK(
                    output,
                    rule.K ?? throw new InvalidOperationException("A top-k output rule needs k."),
                    rule.Round,
                    rule.Labels);
                released.Add(scores);
                released.Add(classes);
                break;
            case OutputMode.Label:
                released.Add(OutputHardener.Label(output, rule.Labels));
                break;
            default:
                throw new InvalidOperationException("Unknown output mode.");
        }
    }

    private Tensor RedactBytes(Tensor output, IReadOnlySet<PiiEntity> entities, Dictionary<string, int> counts, long deadline)
    {
        var elements = output.As<byte[]>();
        var redacted = new byte[elements.Length][];
        var changed = new bool[elements.Length];
        if (elements.Length > 1)
        {
            // An entity split over elements (a model that emits a token, word or field per element) is found in the
            // elements read together, run into each other and with a space between, as the model wrote them: read
            // after each element's own pass, ["john.", "smith@example.com"] released "john." (found in review
            // 2026-12-07). Read so, an element's entity takes the text it runs into in the next element with it
            // (["write to", "bob@example.com"] releases "write " and the placeholder): a word lost beside an entity,
            // rather than part of the entity released.
            var before = new Dictionary<string, int>(counts, StringComparer.Ordinal);
            var texts = new string[elements.Length];
            for (var i = 0; i < elements.Length; i++)
            {
                if (System.Text.Unicode.Utf8.IsValid(elements[i]))
                {
                    texts[i] = Utf8.GetString(elements[i]);
                }
                else
                {
                    // Not text: released as its placeholder (the element's own pass counts it), and read so.
                    redacted[i] = PiiRedactor.RedactUtf8(elements[i], entities, counts, _phoneRegions, deadline);
                    texts[i] = Utf8.GetString(redacted[i]);
                }
            }

            if (!RedactAcross(texts, string.Empty, entities, counts, deadline, changed) || !RedactAcross(texts, " ", entities, counts, deadline, changed))
            {
                // Not read in time: every element is replaced, counted once each, and nothing more is read (the own
                // passes would only time out again, counted again), and what a first reading counted is not counted, as
                // nothing is released as such (review 2026-12-07).
                counts.Clear();
                foreach (var (name, count) in before)
                {
                    counts[name] = count;
                }

                var unread = Utf8.GetBytes("[" + PiiEntities.Unscannable + "]");
                Array.Fill(redacted, unread);
                counts[PiiEntities.Unscannable] = counts.GetValueOrDefault(PiiEntities.Unscannable) + elements.Length;
                return new Tensor(output.Name, output.DataType, (long[])output.Shape.Clone(), redacted);
            }

            for (var i = 0; i < elements.Length; i++)
            {
                if (changed[i])
                {
                    redacted[i] = Utf8.GetBytes(texts[i]);
                }
            }
        }

        // Each element's own pass, on what the reading across elements left.
        for (var i = 0; i < elements.Length; i++)
        {
            redacted[i] = redacted[i] is { } done && !changed[i] ? done : PiiRedactor.RedactUtf8(redacted[i] ?? elements[i], entities, counts, _phoneRegions, deadline);
        }

        return new Tensor(output.Name, output.DataType, (long[])output.Shape.Clone(), redacted);
    }

    private static readonly System.Text.UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Finds the entities in <paramref name="texts"/> joined by <paramref name="separator"/> that span two or more
    /// elements, and redacts each in place: its placeholder where it starts, and its part of every later element it
    /// reaches removed. An element's own entity that such a part cuts into is redacted whole with it: otherwise
    /// ["mail bob@example.com", "alice@corp.org"] read together took "alice" into the first address and released
    /// "@corp.org" (review 2026-12-07). An entity within one element is left to the element's own pass. Marks in
    /// <paramref name="changed"/> each element it changed. False when the text could not be scanned in time.
    /// </summary>
    private bool RedactAcross(string[] texts, string separator, IReadOnlySet<PiiEntity> entities, Dictionary<string, int> counts, long deadline, bool[] changed)
    {
        var starts = new int[texts.Length];
        var joined = new System.Text.StringBuilder();
        for (var i = 0; i < texts.Length; i++)
        {
            if (i > 0)
            {
                joined.Append(separator);
            }

            starts[i] = joined.Length;
            joined.Append(texts[i]);
        }

        var text = joined.ToString();
        if (PiiRedactor.Find(text, entities, _phoneRegions, deadline) is not { } found)
        {
            return false;
        }

        // Per element, the ranges to replace (start, end, replacement), in ascending order.
        var edits = new List<(int Element, int From, int To, string With)>();
        var (lastEnd, reached, coveredFrom) = (0, 0, int.MaxValue);
        foreach (var (start, matchEnd, entity) in found.OrderBy(static f => f.Start))
        {
            var first = ElementAt(starts, texts, start);
            if (first == ElementAt(starts, texts, matchEnd - 1))
            {
                continue;
            }

            // An address that runs into later elements takes the rest of that run of text with it, to the next space: its
            // top-level domain (letters, as many as follow) may have swallowed the start of another address, whose rest
            // read alone is none (["mail bob@example.com", "alice", "@corp.org"] reads "bob@example.comalice", and
            // "@corp.org" was released: review 2026-12-07). A word lost beside an address, as above, rather than part of
            // one released. (The number patterns end at a digit boundary and take nothing of what follows.) Matches come
            // in order: one that ends within the run the last one was taken to is taken to the same place, so the text
            // is walked once, however many addresses cross elements.
            if (entity == PiiEntity.Email && start >= coveredFrom && matchEnd <= reached)
            {
                // Within the run an address before it was taken to: already removed with it (its edits made once, not
                // once an address: review 2026-12-07).
                counts[entity.PlaceholderName()] = counts.GetValueOrDefault(entity.PlaceholderName()) + 1;
                continue;
            }

            var end = entity != PiiEntity.Email ? matchEnd : matchEnd >= lastEnd && matchEnd <= reached ? reached : matchEnd;
            while (entity == PiiEntity.Email && end < text.Length && !char.IsWhiteSpace(text[end]))
            {
                end++;
            }

            if (entity == PiiEntity.Email)
            {
                coveredFrom = end > reached ? start : coveredFrom;
                (lastEnd, reached) = (Math.Max(lastEnd, matchEnd), Math.Max(reached, end));
            }

            var last = ElementAt(starts, texts, end - 1);

            for (var e = first; e <= last; e++)
            {
                var from = Math.Clamp(start - starts[e], 0, texts[e].Length);
                var to = Math.Clamp(end - starts[e], 0, texts[e].Length);
                if (to > from || e == first)
                {
                    edits.Add((e, from, to, e == first ? entity.Placeholder() : string.Empty));
                }
            }

            counts[entity.PlaceholderName()] = counts.GetValueOrDefault(entity.PlaceholderName()) + 1;
        }

        // An element's own entity that an edit cuts into, without holding it whole, goes with it.
        foreach (var byElement in edits.ToLookup(static e => e.Element).ToList())
        {
            var element = byElement.Key;
            var its = byElement.ToList();
            if (its.All(e => e.From == 0 && e.To == texts[element].Length))
            {
                continue; // removed whole: nothing of it is left to cut into
            }

            if (PiiRedactor.Find(texts[element], entities, _phoneRegions, deadline) is not { } own)
            {
                return false;
            }

            foreach (var (from, to, entity) in own)
            {
                var cut = its.Any(e => e.From < to && from < e.To);
                var held = its.Any(e => e.From <= from && to <= e.To);
                if (cut && !held)
                {
                    edits.Add((element, from, to, entity.Placeholder()));
                    counts[entity.PlaceholderName()] = counts.GetValueOrDefault(entity.PlaceholderName()) + 1;
                }
            }
        }

        foreach (var edit in Merged(edits).OrderByDescending(e => e.Element).ThenByDescending(e => e.From))
        {
            texts[edit.Element] = string.Concat(texts[edit.Element].AsSpan(0, edit.From), edit.With, texts[edit.Element].AsSpan(edit.To));
            changed[edit.Element] = true;
        }

        return true;
    }

    // Overlapping edits of an element become one, its replacement theirs in order.
    private static List<(int Element, int From, int To, string With)> Merged(List<(int Element, int From, int To, string With)> edits)
    {
        var merged = new List<(int Element, int From, int To, string With)>(edits.Count);
        foreach (var edit in edits.OrderBy(static e => e.Element).ThenBy(static e => e.From).ThenByDescending(static e => e.To))
        {
            if (merged.Count > 0 && merged[^1] is var last && last.Element == edit.Element && edit.From < last.To)
            {
                merged[^1] = (last.Element, last.From, Math.Max(last.To, edit.To), last.With + edit.With);
            }
            else
            {
                merged.Add(edit);
            }
        }

        return merged;
    }

    // The element holding position <paramref name="position"/> of the joined text (a separator counts to the element after
    // it): the last element starting at or before it, so that of empty elements starting where a longer one does, the
    // longer one (review 2026-12-07: a binary search could land on an empty one, and the text after it kept a character).
    private static int ElementAt(int[] starts, string[] texts, int position)
    {
        var (low, high) = (0, starts.Length);
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (starts[middle] <= position)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        var index = low - 1;

        // Within a separator after element index: that is before the next element.
        return index >= 0 && position >= starts[index] + texts[index].Length && index + 1 < starts.Length ? index + 1 : Math.Max(index, 0);
    }

    private static void EnsureUniqueNames(List<Tensor> released)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in released)
        {
            if (!names.Add(tensor.Name))
            {
                throw new InvalidOperationException("Hardening produced two outputs with the same name.");
            }
        }
    }
}
