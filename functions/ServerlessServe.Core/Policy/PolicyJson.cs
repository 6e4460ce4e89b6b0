using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Policy;

/// <summary>The one strict JSON dialect of <c>policy.json</c>: camelCase, no unknown, duplicate or null-for-non-null properties.</summary>
internal static class PolicyJson
{
    /// <summary>Wire names of <see cref="PiiEntity"/>, as the schema lists them.</summary>
    public static readonly IReadOnlyDictionary<PiiEntity, string> PiiEntityNames = new Dictionary<PiiEntity, string>
    {
        [PiiEntity.Email] = "EMAIL",
        [PiiEntity.Phone] = "PHONE",
        [PiiEntity.CreditCard] = "CREDIT_CARD",
        [PiiEntity.Iban] = "IBAN",
        [PiiEntity.UsSsn] = "US_SSN",
        [PiiEntity.IPv4] = "IPV4",
        [PiiEntity.IPv6] = "IPV6",
    };

    public static readonly IReadOnlyDictionary<ExecutionMode, string> ExecutionModeNames = new Dictionary<ExecutionMode, string>
    {
        [ExecutionMode.Inline] = "inline",
        [ExecutionMode.Orchestrated] = "orchestrated",
    };

    public static readonly IReadOnlyDictionary<OutputMode, string> OutputModeNames = new Dictionary<OutputMode, string>
    {
        [OutputMode.Scores] = "scores",
        [OutputMode.TopK] = "topk",
        [OutputMode.Label] = "label",
    };

    public static readonly IReadOnlyDictionary<DefenseMode, string> DefenseModeNames = new Dictionary<DefenseMode, string>
    {
        [DefenseMode.Shadow] = "shadow",
        [DefenseMode.Enforce] = "enforce",
    };

    public static readonly IReadOnlyDictionary<SqueezerKind, string> SqueezerKindNames = new Dictionary<SqueezerKind, string>
    {
        [SqueezerKind.BitDepth] = "bitDepth",
        [SqueezerKind.Median] = "median",
    };

    /// <summary>Wire names of the containments an extraction alarm may ask for (quarantine is for model versions, not callers).</summary>
    public static readonly IReadOnlyDictionary<ContainmentKind, string> ContainmentKindNames = new Dictionary<ContainmentKind, string>
    {
        [ContainmentKind.None] = "none",
        [ContainmentKind.Throttle] = "throttle",
        [ContainmentKind.Block] = "block",
    };

    public static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 16,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    public static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions()
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            PropertyNameCaseInsensitive = false,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowDuplicateProperties = false,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            NumberHandling = JsonNumberHandling.Strict,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            MaxDepth = 16,
            WriteIndented = true,
        };
        options.Converters.Add(new WireEnumConverter<PiiEntity>(PiiEntityNames));
        options.Converters.Add(new WireEnumConverter<OutputMode>(OutputModeNames));
        options.Converters.Add(new WireEnumConverter<ExecutionMode>(ExecutionModeNames));
        options.Converters.Add(new WireEnumConverter<DefenseMode>(DefenseModeNames));
        options.Converters.Add(new WireEnumConverter<SqueezerKind>(SqueezerKindNames));
        options.Converters.Add(new WireEnumConverter<ContainmentKind>(ContainmentKindNames));
        options.Converters.Add(new Iso8601DurationConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
