using System.Text.Json.Serialization;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Core.Serving;

/// <summary>A request that names a model: who asks (<see cref="Caller"/>) and which verified version it got (<see cref="Model"/>).</summary>
public class ModelRequestContext(string requestId, string modelName, string? requestedVersion) : RequestContext(requestId)
{
    /// <summary>The <c>Authorization</c> header as received. A secret: never serialised, cleared once authenticated.</summary>
    [JsonIgnore]
    public string? Authorization { get; set; }

    /// <summary>
    /// A signed request's method, target and covered headers, bearer token included (set by the HTTP edge when the request
    /// carries a signature). A secret: never serialised, cleared by the signature check.
    /// </summary>
    [JsonIgnore]
    public SignedRequest? Signed { get; set; }

    /// <summary>The model name from the route, as the caller wrote it (validated by the resolve stage).</summary>
    public string ModelName { get; } = modelName;

    /// <summary>The version from the route, or null for the newest good one.</summary>
    public string? RequestedVersion { get; } = requestedVersion;

    /// <summary>Set by authentication.</summary>
    public CallerIdentity? Caller { get; set; }

    /// <summary>
    /// True once <c>authorize</c> passed: the caller may know the model exists. Until then nothing of the model may reach
    /// an answer (its deprecation dates included), which must read as for a model that does not exist.
    /// </summary>
    [JsonIgnore]
    public bool Authorized { get; set; }

    /// <summary>
    /// True for a look-ahead run of the model checks whose refusal is answered by running the request's own pipeline
    /// next (infer's check for an orchestrated model): stages that raise security events refuse as usual but leave the
    /// raising to that run, so one request raises one event. Never serialised.
    /// </summary>
    [JsonIgnore]
    public bool LookAhead { get; set; }

    /// <summary>
    /// The caller's miss this request holds from <c>misses</c> until it is known not to be one (<c>authorize</c> passed) or
    /// it ends (the closing <c>miss</c>, which spends it when the request was one).
    /// </summary>
    [JsonIgnore]
    public Limits.RequestLimits.MissReservation? PendingMiss { get; set; }

    /// <summary>Places held in this instance's limiters (admit, limit), given back by the closing release stage.</summary>
    [JsonIgnore]
    public List<IDisposable> Leases { get; } = [];

    /// <summary>Set by resolution: the verified version (manifest, its digest, policy).</summary>
    public VerifiedModelVersion? Model { get; set; }

    /// <summary>Set by resolution when the caller named a deprecated version: the dates the HTTP edge sends as <c>Deprecation</c> and <c>Sunset</c>.</summary>
    public VersionDeprecation? Deprecation { get; set; }
}
