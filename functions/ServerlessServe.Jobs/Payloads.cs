using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Jobs;

/// <summary>
/// A value between a job's steps (the claim check): inline when its JSON is at most the threshold, otherwise only a
/// reference to a write-once blob with the SHA-256 and length of its bytes. Orchestration history holds these, so it
/// never holds a value above the threshold.
/// </summary>
public sealed record Payload
{
    /// <summary>
    /// The value itself, when it is small enough to travel inline: embedded as JSON in the step's own JSON. (A string of
    /// JSON, as <see cref="Inline"/> was, is escaped once more at every level of history that holds it: about 1.4 times
    /// the bytes of a one-item chunk in its step's input.)
    /// </summary>
    public JsonElement? Value { get; init; }

    /// <summary>The value's JSON as a string: how versions before 2026-12-01 kept an inline value. Read, never written.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Inline { get; init; }

    /// <summary>The blob that holds the value's JSON, when it is not inline.</summary>
    public string? Blob { get; init; }

    /// <summary>The SHA-256 (lower-case hex) of the blob's bytes, checked before use.</summary>
    public string? Sha256 { get; init; }

    /// <summary>The value's size in bytes (UTF-8 JSON).</summary>
    public long Bytes { get; init; }

    public bool IsReference => Blob is not null;
}

/// <summary>A referenced payload whose blob is missing or does not match its digest: never used.</summary>
public sealed class PayloadIntegrityException(string message) : Exception(message)
{
    public PayloadIntegrityException()
        : this("a job payload failed its integrity check")
    {
    }

    public PayloadIntegrityException(string message, Exception innerException)
        : this(message + ": " + innerException?.Message)
    {
    }
}

/// <summary>
/// Stores and loads job payloads. Above <see cref="InlineLimit"/> bytes a value goes to the payload container as
/// <c>jobs/{jobId}/{sha256}</c>, written once (<c>If-None-Match: *</c>); loading it checks length and digest. All of a
/// job's blobs share its prefix, so purging a job deletes them together. Each blob names the task hub whose job it
/// belongs to (metadata <c>taskhub</c>, when <paramref name="taskHub"/> is given), so that a sweep of chunks left by
/// submissions never scheduled (<see cref="JobsStoredBeforeAsync"/>) touches only its own hub's.
/// </summary>
public sealed class PayloadStore(BlobContainerClient container, int inlineLimit, string? taskHub = null)
{
    private const string TaskHubKey = "taskhub";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);
    private readonly CreateOnce _created = new(() => container.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None));

    public int InlineLimit { get; } = inlineLimit;

    public string ContainerName => container.Name;

    /// <summary>
    /// The most a job's orchestration input, or its output, holds inline in all: 16 KiB (the JSON of the input escapes it
    /// again, and the Azure Storage backend keeps a property under 32 K characters in its table). Above that it would
    /// move the message to blobs of its own (not digest-checked, and not readable while the job is pending), so a
    /// job's chunks share it (<see cref="ShareOf"/>).
    /// </summary>
    public const int MaxInlinePerJob = 16 * 1024;

    /// <summary>The inline limit of one of <paramref name="chunks"/> chunks: its share of <see cref="MaxInlinePerJob"/>, at most the threshold.</summary>
    public int ShareOf(int chunks) => Math.Min(InlineLimit, MaxInlinePerJob / Math.Max(1, chunks));

    /// <summary>Serialises <paramref name="value"/> and keeps it inline or stores it, by size (up to <paramref name="inlineLimit"/>, default the threshold).</summary>
    public Task<Payload> PutAsync<T>(string jobId, T value, CancellationToken cancellationToken, int? inlineLimit = null) =>
        PutAsync(jobId, JsonSerializer.SerializeToUtf8Bytes(value, Json), cancellationToken, inlineLimit);

    /// <summary>Keeps <paramref name="utf8Json"/> inline or stores it, by size (up to <paramref name="inlineLimit"/>, default the threshold).</summary>
    public async Task<Payload> PutAsync(string jobId, byte[] utf8Json, CancellationToken cancellationToken, int? inlineLimit = null)
    {
        ArgumentNullException.ThrowIfNull(utf8Json);
        if (utf8Json.Length <= Math.Min(InlineLimit, inlineLimit ?? InlineLimit))
        {
            return new Payload { Value = JsonSerializer.Deserialize<JsonElement>(utf8Json), Bytes = utf8Json.Length };
        }

        var digest = Convert.ToHexStringLower(SHA256.HashData(utf8Json));
        var name = Prefix(jobId) + digest;
        await _created.EnsureAsync().ConfigureAwait(false);
        try
        {
            await container.GetBlobClient(name).UploadAsync(
                BinaryData.FromBytes(utf8Json),
                new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    Metadata = taskHub is null ? null : new Dictionary<string, string>(StringComparer.Ordinal) { [TaskHubKey] = taskHub },
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Written before with the same bytes (its name is their digest); a step that runs again writes nothing new.
        }

        return new Payload { Blob = name, Sha256 = digest, Bytes = utf8Json.Length };
    }

    /// <summary>The value's JSON bytes; a referenced one only if its blob matches the digest and length.</summary>
    public async Task<byte[]> GetBytesAsync(Payload payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (!payload.IsReference)
        {
            return payload switch
            {
                { Value: { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } value } => JsonSerializer.SerializeToUtf8Bytes(value),
                { Inline: { } earlier } => Encoding.UTF8.GetBytes(earlier),
                _ => throw new PayloadIntegrityException("a job payload is empty"),
            };
        }

        byte[] bytes;
        try
        {
            bytes = (await container.GetBlobClient(payload.Blob).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new PayloadIntegrityException("a job payload is missing");
        }

        if (bytes.Length != payload.Bytes || !string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), payload.Sha256, StringComparison.Ordinal))
        {
            throw new PayloadIntegrityException("a job payload does not match its digest");
        }

        return bytes;
    }

    public async Task<T> GetAsync<T>(Payload payload, CancellationToken cancellationToken) =>
        JsonSerializer.Deserialize<T>(await GetBytesAsync(payload, cancellationToken).ConfigureAwait(false), Json)
            ?? throw new PayloadIntegrityException("a job payload is empty");

    /// <summary>Deletes every blob of <paramref name="jobId"/>; returns how many.</summary>
    public async Task<int> DeleteJobAsync(string jobId, CancellationToken cancellationToken)
    {
        var deleted = 0;
        try
        {
            await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, Prefix(jobId), cancellationToken).ConfigureAwait(false))
            {
                if ((await container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken).ConfigureAwait(false)).Value)
                {
                    deleted++;
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No container yet: nothing was ever stored.
        }

        return deleted;
    }

    /// <summary>The blobs of <paramref name="jobId"/> (for tests and operators).</summary>
    public async Task<IReadOnlyList<string>> ListJobAsync(string jobId, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        try
        {
            await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, Prefix(jobId), cancellationToken).ConfigureAwait(false))
            {
                names.Add(blob.Name);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return names;
    }

    /// <summary>
    /// The jobs of this store's task hub whose blobs were all written before <paramref name="before"/>: what the purge
    /// checks for submissions that stored chunks but were never scheduled. A job with any blob of another hub, or of
    /// none (written before blobs named their hub), is not listed.
    /// </summary>
    public async Task<IReadOnlyList<string>> JobsStoredBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        if (taskHub is null)
        {
            return [];
        }

        var newest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var others = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await foreach (var blob in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, "jobs/", cancellationToken).ConfigureAwait(false))
            {
                var slash = blob.Name.IndexOf('/', 5);
                if (slash <= 5)
                {
                    continue;
                }

                var job = blob.Name[5..slash];
                if (blob.Metadata?.TryGetValue(TaskHubKey, out var hub) != true || !string.Equals(hub, taskHub, StringComparison.Ordinal))
                {
                    others.Add(job);
                    continue;
                }

                var written = blob.Properties.LastModified ?? DateTimeOffset.MaxValue;
                newest[job] = newest.TryGetValue(job, out var seen) && seen > written ? seen : written;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }

        return [.. newest.Where(j => j.Value < before && !others.Contains(j.Key)).Select(j => j.Key)];
    }

    public static string Prefix(string jobId) => "jobs/" + jobId + "/";
}
