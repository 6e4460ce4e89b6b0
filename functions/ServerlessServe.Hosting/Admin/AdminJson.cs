using System.Globalization;
using System.Text.Json;
using ServerlessServe.Core.Admin;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Admin;

/// <summary>The admin plane's JSON bodies, written by hand (small, fixed shapes; no reflection).</summary>
internal static class AdminJson
{
    public static byte[] Models(IReadOnlyList<ModelVersionStatus> versions) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("models");
        foreach (var model in versions.GroupBy(v => v.Name, StringComparer.Ordinal))
        {
            json.WriteStartObject();
            json.WriteString("name", model.Key);
            json.WriteStartArray("versions");
            foreach (var version in model)
            {
                json.WriteStartObject();
                json.WriteString("version", version.Version);
                json.WriteString("state", version.State);
                WriteOptional(json, "manifestDigest", version.ManifestDigest);
                WriteOptional(json, "signerKeyId", version.SignerKeyId);
                if (version.Created is { } created)
                {
                    json.WriteString("created", created.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                }

                WriteOptional(json, "failure", version.Failure);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    public static byte[] Published(string requestId, string model, string version, string manifestDigest, string signerKeyId, string state) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("requestId", requestId);
        json.WriteString("name", model);
        json.WriteString("version", version);
        json.WriteString("manifestDigest", manifestDigest);
        json.WriteString("signerKeyId", signerKeyId);
        json.WriteString("state", state);
        json.WriteEndObject();
    });

    public static byte[] ControlPublished(string requestId, string? model, long sequence, string signerKeyId) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("requestId", requestId);
        if (model is not null)
        {
            json.WriteString("name", model);
        }

        json.WriteNumber("sequence", sequence);
        json.WriteString("signerKeyId", signerKeyId);
        json.WriteEndObject();
    });

    public static byte[] Containment(string requestId, string action, ContainmentEntry? entry, bool changed) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("requestId", requestId);
        json.WriteString("action", action);
        json.WriteBoolean("changed", changed);
        if (entry is not null)
        {
            json.WriteString("kind", ContainmentStore.PartitionOf(entry.Kind));
            json.WriteString("subject", entry.Subject);
            if (entry.Until is { } until)
            {
                json.WriteString("until", until.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            }
            else
            {
                json.WriteNull("until");
            }
        }

        json.WriteEndObject();
    });

    public static byte[] RequestKey(string requestId, string action, string caller, string keyId, bool changed) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("requestId", requestId);
        json.WriteString("action", action);
        json.WriteBoolean("changed", changed);
        json.WriteString("caller", caller);
        json.WriteString("keyId", keyId);
        json.WriteEndObject();
    });

    public static byte[] SecurityEvents(IReadOnlyList<AuditRecord> records) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("events");
        foreach (var record in records)
        {
            json.WriteStartObject();
            json.WriteString("id", record.RequestId);
            json.WriteString("time", record.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("writerId", record.WriterId);
            json.WriteNumber("seq", record.Seq);
            json.WriteString("kind", record.Security?.Kind);
            json.WriteString("action", record.Security?.Action);
            json.WriteString("caller", record.Caller);
            WriteOptional(json, "model", record.Model);
            WriteOptional(json, "version", record.ModelVersion);
            json.WriteString("outcome", record.Outcome);
            if (record.Security?.Until is { } until)
            {
                json.WriteString("until", until.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            }

            json.WriteStartObject("evidence");
            foreach (var (name, value) in (record.Security?.Evidence ?? new Dictionary<string, string>()).OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteString("hash", record.Hash);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    public static byte[] Checkpoints(IReadOnlyList<AuditCheckpointInfo> checkpoints) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("checkpoints");
        foreach (var checkpoint in checkpoints)
        {
            json.WriteStartObject();
            json.WriteString("writerId", checkpoint.WriterId);
            json.WriteNumber("seq", checkpoint.Seq);
            json.WriteString("hash", checkpoint.Hash);
            json.WriteString("time", checkpoint.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("keyId", checkpoint.KeyId);
            json.WriteString("sig", checkpoint.Signature);
            if (checkpoint.SignatureValid is { } valid)
            {
                json.WriteBoolean("signatureValid", valid);
            }
            else
            {
                json.WriteNull("signatureValid");
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    public static byte[] Health() => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("status", "live");
        json.WriteEndObject();
    });

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            body(json);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
