using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Core.Tests.Audit;

internal static class AuditTestData
{
    public static readonly DateTimeOffset BaseTime = new(2026, 3, 14, 15, 9, 26, 535, TimeSpan.Zero);

    public static AuditEvent Event(int n) => new()
    {
        Time = BaseTime.AddMilliseconds(n),
        RequestId = "req-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Caller = "c0ffee" + (n % 7).ToString(System.Globalization.CultureInfo.InvariantCulture),
        Operation = "infer",
        Model = "tabular",
        ModelVersion = "1",
        ManifestDigest = new string('a', 64),
        InputSha256 = new string('b', 64),
        OutputSha256 = new string('c', 64),
        Stages = new Dictionary<string, string> { ["validate"] = "pass", ["infer"] = "pass", ["redact"] = "pass" },
        Redactions = new Dictionary<string, int> { ["EMAIL"] = n % 3, ["hardened_outputs"] = 1 },
        Outcome = AuditEvent.Released,
        LatencyMs = 12.5 + n,
    };

    public static AuditOptions Options(ECDsa key, Action<AuditOptions>? configure = null)
    {
        var options = new AuditOptions { CheckpointKey = key, WriterId = "test-" + Guid.NewGuid().ToString("N")[..8] };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Writes <paramref name="count"/> records through a sink and disposes it (final checkpoint).</summary>
    public static async Task<string> WriteChainAsync(BlobContainerClient container, ECDsa key, int count, Action<AuditOptions>? configure = null)
    {
        var options = Options(key, configure);
        await using var sink = new BlobAuditSink(container, options, new FakeLogger<BlobAuditSink>(), TimeProvider.System);
        sink.Start();
        for (var i = 1; i <= count; i++)
        {
            await sink.AppendAsync(Event(i), CancellationToken.None);
        }

        return sink.WriterId;
    }

    public static async Task<List<string>> ReadLinesAsync(BlobContainerClient container, string blobName)
    {
        var content = (await container.GetBlobClient(blobName).DownloadContentAsync()).Value.Content.ToString();
        return content.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    /// <summary>Tampering as an attacker with storage access would: delete the append blob and recreate it with other lines.</summary>
    public static async Task RewriteAsync(BlobContainerClient container, string blobName, Func<List<string>, List<string>> change)
    {
        var lines = change(await ReadLinesAsync(container, blobName));
        var blob = container.GetAppendBlobClient(blobName);
        await blob.DeleteAsync();
        await blob.CreateAsync();
        if (lines.Count > 0)
        {
            using var content = new MemoryStream(Encoding.UTF8.GetBytes(string.Concat(lines.Select(static l => l + "\n"))));
            await blob.AppendBlockAsync(content);
        }
    }
}
