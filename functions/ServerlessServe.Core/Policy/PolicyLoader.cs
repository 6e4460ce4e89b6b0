using System.Text;
using System.Text.Json;
using Json.Schema;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Policy;

/// <summary>
/// Reads <c>policy.json</c>: JSON Schema 2020-12 validation (the schema is embedded as <c>policy.schema.json</c>), strict
/// parsing into <see cref="ModelPolicy"/>, and the checks against the model's inputs and outputs. Used at publish and at
/// load; every failure is a <see cref="PolicyException"/> naming the policy path, never a value.
/// </summary>
public static class PolicyLoader
{
    /// <summary>Largest accepted <c>policy.json</c>: 1 MiB.</summary>
    public const int MaxPolicyBytes = 1 << 20;

    private static readonly Lazy<JsonSchema> Schema = new(LoadSchema, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The text of the embedded policy schema.</summary>
    public static string SchemaText { get; } = ReadSchemaText();

    /// <summary>Validates <paramref name="utf8Json"/> against the schema and parses it strictly.</summary>
    public static ModelPolicy Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxPolicyBytes)
        {
            throw new PolicyException("/", "policy is larger than 1 MiB");
        }

        // JSON is UTF-8 (RFC 8259). The parser accepts ill-formed bytes inside a string and the schema's evaluation throws
        // when it reads one (found by the artifact fuzz target).
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            throw new PolicyException("/", "not well-formed JSON (not UTF-8)");
        }

        // Nor an escape that leaves half a surrogate pair, which the schema's evaluation would throw on (JsonEscapes).
        if (!Protocol.JsonEscapes.AreWellFormed(utf8Json, new JsonReaderOptions { MaxDepth = PolicyJson.DocumentOptions.MaxDepth }))
        {
            throw new PolicyException("/", "not well-formed JSON (an unpaired surrogate escape)");
        }

        var bytes = utf8Json.ToArray();
        try
        {
            using var document = JsonDocument.Parse(bytes, PolicyJson.DocumentOptions);
            var results = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!results.IsValid)
            {
                throw SchemaFailure(results);
            }
        }
        catch (JsonException ex)
        {
            throw new PolicyException("/", $"not well-formed JSON (line {ex.LineNumber + 1})");
        }

        ModelPolicy? policy;
        try
        {
            policy = JsonSerializer.Deserialize<ModelPolicy>(bytes, PolicyJson.Options);
        }
        catch (JsonException ex)
        {
            throw new PolicyException(ToPointer(ex.Path), "does not match the policy model");
        }

        if (policy is null)
        {
            throw new PolicyException("/", "policy is null");
        }

        Validate(policy);
        return policy;
    }

    /// <summary>Checks rules that need no model: bounds in order and finite, k and rounding in range.</summary>
    public static void Validate(ModelPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.SchemaVersion != 1)
        {
            throw new PolicyException("/schemaVersion", "unsupported schema version");
        }

        if (policy.MaxBatch < 1)
        {
            throw new PolicyException("/maxBatch", "must be at least 1");
        }

        if (policy.DefaultRound is < 0 or > 15)
        {
            throw new PolicyException("/defaultRound", "must be between 0 and 15");
        }

        if (policy.Redact.Distinct().Count() != policy.Redact.Count)
        {
            throw new PolicyException("/redact", "lists an entity twice");
        }

        if (policy.Padding is { } padding && padding.Buckets.Zip(padding.Buckets.Skip(1)).Any(p => p.First >= p.Second))
        {
            throw new PolicyException("/padding/buckets", "must be in ascending order");
        }

        if (policy.Signatures is { } signatures && (signatures.MaxAge < TimeSpan.FromSeconds(1) || signatures.MaxAge > SignaturePolicy.MaxMaxAge))
        {
            throw new PolicyException("/signatures/maxAge", "must be between 1 second and 1 hour");
        }

        if (policy.Defenses?.Extraction is { } extraction)
        {
            ValidateAction(extraction.Action);
        }

        if (policy.Batching is { } batching)
        {
            ValidateBatching(batching);
        }

        foreach (var (name, rule) in policy.Inputs)
        {
            var path = "/inputs/" + Escape(name);
            if (rule.Min is { } min && !double.IsFinite(min))
            {
                throw new PolicyException(path + "/min", "must be finite");
            }

            if (rule.Max is { } max && !double.IsFinite(max))
            {
                throw new PolicyException(path + "/max", "must be finite");
            }

            if (rule.Min > rule.Max)
            {
                throw new PolicyException(path, "min is greater than max");
            }

            if (rule.MaxBytesLength < 0)
            {
                throw new PolicyException(path + "/maxBytesLength", "must not be negative");
            }
        }

        foreach (var (name, rule) in policy.Outputs)
        {
            var path = "/outputs/" + Escape(name);
            if (rule.Mode == OutputMode.TopK && rule.K is not >= 1)
            {
                throw new PolicyException(path + "/k", "topk needs k of at least 1");
            }

            if (rule.Mode != OutputMode.TopK && rule.K is not null)
            {
                throw new PolicyException(path + "/k", "k applies only to topk");
            }

            if (rule.Round is < 0 or > 15)
            {
                throw new PolicyException(path + "/round", "must be between 0 and 15");
            }

            if (rule.Mode == OutputMode.Scores && rule.Labels is not null)
            {
                throw new PolicyException(path + "/labels", "labels apply only to topk and label");
            }

            if (rule.Mode == OutputMode.Label && rule.Round is not null)
            {
                throw new PolicyException(path + "/round", "round has no effect in label mode");
            }
        }
    }

    /// <summary>
    /// Checks that <paramref name="policy"/> fits the model: rules name real inputs and outputs, value ranges only on
    /// numeric inputs, byte lengths only on BYTES inputs, output modes only on numeric outputs with a class dimension,
    /// k and labels consistent with the class count when the model fixes it, maxBatch within a fixed batch dimension, and
    /// batching only on a model whose every input and output leads with a free batch dimension.
    /// </summary>
    public static void CheckAgainst(ModelPolicy policy, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        Validate(policy);

        foreach (var input in inputs)
        {
            if (input.Shape.Length > 0 && input.Shape[0] > 0 && policy.MaxBatch > input.Shape[0])
            {
                throw new PolicyException("/maxBatch", "exceeds a fixed batch dimension of the model");
            }
        }

        foreach (var (name, rule) in policy.Inputs)
        {
            var path = "/inputs/" + Escape(name);
            var spec = inputs.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.Ordinal))
                ?? throw new PolicyException(path, "names no input of the model");
            var numeric = spec.DataType is not (TensorDataType.Bytes or TensorDataType.Bool);
            if ((rule.Min is not null || rule.Max is not null) && !numeric)
            {
                throw new PolicyException(path, "value ranges apply only to numeric inputs");
            }

            // Bounds are read as doubles: beyond 2^53 a 64-bit integer bound may have been rounded (9007199254740995
            // reads as ...996, admitting a value above the maximum written), and a floating-point bound beyond the
            // type's largest finite value was clamped to it (a minimum of 1e39 on FP32 admitted float.MaxValue).
            if (spec.DataType is TensorDataType.Int64 or TensorDataType.UInt64
                && (Math.Abs(rule.Min ?? 0) >= TwoToThe53 || Math.Abs(rule.Max ?? 0) >= TwoToThe53))
            {
                throw new PolicyException(path, "a bound of a 64-bit integer input must be below 2^53 (at most ±9007199254740991), where a JSON number is read exactly");
            }

            if (LargestFinite(spec.DataType) is { } largest && (rule.Min > largest || rule.Max < -largest))
            {
                throw new PolicyException(path, "the range admits no finite value of the input's datatype");
            }

            if (rule.MaxBytesLength is not null && spec.DataType != TensorDataType.Bytes)
            {
                throw new PolicyException(path + "/maxBytesLength", "applies only to BYTES inputs");
            }
        }

        if (policy.Defenses is { } defenses)
        {
            CheckDefenses(defenses, inputs, outputs);
        }

        // Rows of different requests are stacked along the first dimension and split back by it: every input and
        // output must lead with a batch dimension the model leaves free.
        if (policy.Batching is not null && inputs.Concat(outputs).Any(t => t.Shape.Length == 0 || t.Shape[0] > 0))
        {
            throw new PolicyException("/batching", "batching needs every input and output to lead with a batch dimension the model leaves free");
        }

        foreach (var (name, rule) in policy.Outputs)
        {
            var path = "/outputs/" + Escape(name);
            var spec = outputs.FirstOrDefault(o => string.Equals(o.Name, name, StringComparison.Ordinal))
                ?? throw new PolicyException(path, "names no output of the model");
            // What the redact stage can harden (ResponseRedactor.Harden, OutputHardener): a rule it would refuse on every
            // answer would have published a version that failed every request (500) after inference and every charge.
            if (!spec.DataType.IsFloatingPoint())
            {
                throw new PolicyException(path, "output rules apply only to floating-point (FP16, FP32, FP64) outputs");
            }

            if (rule.Mode is OutputMode.TopK or OutputMode.Label && spec.Shape.Length is not (1 or 2))
            {
                throw new PolicyException(path + "/mode", "needs an output of shape [batch, classes] or [classes]");
            }

            if (rule.Mode == OutputMode.TopK && outputs.Any(o => string.Equals(o.Name, name + "_classes", StringComparison.Ordinal)))
            {
                throw new PolicyException(path + "/mode", $"top-k releases {name}_classes, which is already an output of the model");
            }

            var classCount = spec.Shape.Length > 0 && spec.Shape[^1] > 0 ? spec.Shape[^1] : (long?)null;
            if (rule.Mode == OutputMode.TopK && classCount is { } classes && rule.K > classes)
            {
                throw new PolicyException(path + "/k", "is larger than the number of classes");
            }

            if (rule.Labels is { } labels && classCount is { } count && labels.Count != count)
            {
                throw new PolicyException(path + "/labels", "count differs from the number of classes");
            }
        }
    }

    // A bound read as 2^53 or beyond may have been rounded: 9007199254740993 reads as 2^53.
    private const double TwoToThe53 = 9007199254740992;

    private static double? LargestFinite(TensorDataType type) => type switch
    {
        TensorDataType.Fp16 => (double)Half.MaxValue,
        TensorDataType.Fp32 => float.MaxValue,
        _ => null,
    };

    private static void ValidateBatching(BatchingPolicy batching)
    {
        if (batching.MaxBatchSize is < BatchingPolicy.MinMaxBatchSize or > BatchingPolicy.MaxMaxBatchSize)
        {
            throw new PolicyException("/batching/maxBatchSize", "must be between 2 and 1024");
        }

        if (batching.MaxQueueDelay < TimeSpan.Zero || batching.MaxQueueDelay > BatchingPolicy.MaxMaxQueueDelay)
        {
            throw new PolicyException("/batching/maxQueueDelay", "must be between 0 and 100 milliseconds");
        }
    }

    // An extraction alarm's action: a throttle needs its rate and only a throttle has one; a duration is positive and
    // at most a year, and "none" has none.
    private static void ValidateAction(ExtractionAction action)
    {
        const string path = "/defenses/extraction/action";
        if (action.Kind is not (ContainmentKind.None or ContainmentKind.Throttle or ContainmentKind.Block))
        {
            throw new PolicyException(path + "/kind", "must be none, throttle or block");
        }

        if (action.Kind == ContainmentKind.Throttle && action.RequestsPerMinute is not >= 1)
        {
            throw new PolicyException(path + "/requestsPerMinute", "a throttle needs requestsPerMinute of at least 1");
        }

        if (action.Kind != ContainmentKind.Throttle && action.RequestsPerMinute is not null)
        {
            throw new PolicyException(path + "/requestsPerMinute", "applies only to throttle");
        }

        if (action.Duration is { } duration && (duration <= TimeSpan.Zero || duration > ExtractionAction.MaxDuration))
        {
            throw new PolicyException(path + "/duration", "must be more than zero and at most 365 days");
        }

        if (action.Kind == ContainmentKind.None && action.Duration is not null)
        {
            throw new PolicyException(path + "/duration", "has no effect with kind none");
        }
    }

    // Defenses work on rows: the inputs they read are FP32 [batch, features] with the feature count fixed; squeezing
    // enlarges the batch (the input and each squeezed copy in one call), so the model's batch dimension must be free.
    private static void CheckDefenses(DefensePolicy defenses, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        if (defenses.Ood is { } ood)
        {
            RowInput(inputs, ood.Input, "/defenses/ood/input");
        }

        if (defenses.Extraction is { } extraction)
        {
            RowInput(inputs, extraction.Input, "/defenses/extraction/input");
            var classes = outputs.FirstOrDefault(o => string.Equals(o.Name, extraction.Output, StringComparison.Ordinal))
                ?? throw new PolicyException("/defenses/extraction/output", "names no output of the model");
            if (!IsClassOutput(classes))
            {
                throw new PolicyException(
                    "/defenses/extraction/output",
                    "must be a floating-point output of shape [batch, classes] or an integer output of shape [batch] or [batch, 1]");
            }
        }

        if (defenses.Squeeze is not { } squeeze)
        {
            return;
        }

        var features = RowInput(inputs, squeeze.Input, "/defenses/squeeze/input");
        if (inputs.Count != 1)
        {
            throw new PolicyException("/defenses/squeeze", "squeezing needs a model with one input");
        }

        var input = inputs.First(i => i.Name == squeeze.Input);
        if (input.Shape[0] > 0)
        {
            throw new PolicyException("/defenses/squeeze/input", "squeezing needs a model whose batch dimension is not fixed");
        }

        if (outputs.Any(o => o.Shape.Length == 0 || o.Shape[0] > 0))
        {
            throw new PolicyException("/defenses/squeeze", "squeezing needs every output to lead with the batch dimension");
        }

        var output = outputs.FirstOrDefault(o => string.Equals(o.Name, squeeze.Output, StringComparison.Ordinal))
            ?? throw new PolicyException("/defenses/squeeze/output", "names no output of the model");
        if (output.DataType != TensorDataType.Fp32 || output.Shape.Length != 2)
        {
            throw new PolicyException("/defenses/squeeze/output", "must be an FP32 output of shape [batch, classes]");
        }

        if (squeeze.Image is { } image && (long)image[0] * image[1] != features)
        {
            throw new PolicyException("/defenses/squeeze/image", "height times width must equal the input's features");
        }

        if (squeeze.Image is null && squeeze.Squeezers.Any(q => q.Kind == SqueezerKind.Median))
        {
            throw new PolicyException("/defenses/squeeze/image", "median smoothing needs the image's height and width");
        }

        if (!double.IsFinite(squeeze.InputMax) || !double.IsFinite(squeeze.Threshold))
        {
            throw new PolicyException("/defenses/squeeze", "inputMax and threshold must be finite");
        }
    }

    /// <summary>
    /// True when <paramref name="output"/> can give each row's predicted class: floating-point scores of shape [batch,
    /// classes] (the arg-max), or an integer label of shape [batch] or [batch, 1] (its value).
    /// </summary>
    public static bool IsClassOutput(TensorSpec output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return output.DataType.IsFloatingPoint()
            ? output.Shape.Length == 2 && output.Shape[1] != 0
            : IsInteger(output.DataType) && (output.Shape.Length == 1 || (output.Shape.Length == 2 && output.Shape[1] == 1));
    }

    private static bool IsInteger(TensorDataType type) => type is TensorDataType.UInt8 or TensorDataType.UInt16 or TensorDataType.UInt32
        or TensorDataType.UInt64 or TensorDataType.Int8 or TensorDataType.Int16 or TensorDataType.Int32 or TensorDataType.Int64;

    private static long RowInput(IReadOnlyList<TensorSpec> inputs, string name, string path)
    {
        var spec = inputs.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.Ordinal))
            ?? throw new PolicyException(path, "names no input of the model");
        if (spec.DataType != TensorDataType.Fp32 || spec.Shape.Length != 2 || spec.Shape[1] <= 0)
        {
            throw new PolicyException(path, "must be an FP32 input of shape [batch, features] with the features fixed");
        }

        return spec.Shape[1];
    }

    private static PolicyException SchemaFailure(EvaluationResults results)
    {
        // Failures inside an "if" (the condition) or a "not" (inverted) are not what went wrong: skip them, prefer a node
        // that carries an error, else the deepest failing keyword.
        var candidates = (results.Details ?? []).Where(d => !d.IsValid && Counts(d)).ToList();
        var failure = candidates.LastOrDefault(d => d.Errors is { Count: > 0 })
            ?? candidates.OrderBy(d => d.EvaluationPath.ToString().Length).LastOrDefault()
            ?? results;
        var keyword = failure.Errors?.Keys.FirstOrDefault(k => k.Length > 0)
            ?? failure.EvaluationPath.ToString().Split('/').LastOrDefault(s => s.Length > 0)
            ?? "schema";
        var location = failure.InstanceLocation.ToString();
        return new PolicyException(string.IsNullOrEmpty(location) ? "/" : location, $"violates schema keyword '{keyword}'");

        static bool Counts(EvaluationResults detail)
        {
            var segments = detail.EvaluationPath.ToString().Split('/');
            return !segments.Contains("if") && !segments.Contains("not");
        }
    }

    private static string ToPointer(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$")
        {
            return "/";
        }

        // System.Text.Json paths look like $.outputs['name'].k or $.roles[0]; render them as pointer-like paths.
        var builder = new StringBuilder();
        var text = jsonPath.StartsWith('$') ? jsonPath[1..] : jsonPath;
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '.')
            {
                var end = text.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? text.Length : end;
                builder.Append('/').Append(Escape(text[(i + 1)..end]));
                i = end;
            }
            else if (text[i] == '[')
            {
                var end = text.IndexOf(']', i);
                end = end < 0 ? text.Length : end;
                builder.Append('/').Append(Escape(text[(i + 1)..end].Trim('\'')));
                i = end + 1;
            }
            else
            {
                i++;
            }
        }

        return builder.Length == 0 ? "/" : builder.ToString();
    }

    internal static string Escape(string segment) => segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string ReadSchemaText()
    {
        using var stream = typeof(PolicyLoader).Assembly.GetManifestResourceStream("policy.schema.json")
            ?? throw new InvalidOperationException("The embedded resource policy.schema.json is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static JsonSchema LoadSchema() => JsonSchema.FromText(SchemaText);
}
