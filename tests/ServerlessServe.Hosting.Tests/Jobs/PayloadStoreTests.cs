using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>The claim check on real Azurite: small values inline, large ones by digest-checked reference, per-job purge.</summary>
public sealed class PayloadStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task SmallValue_StaysInline_NoBlobWritten()
    {
        var container = await azurite.CreateContainerAsync("payloads");
        var store = new PayloadStore(container, inlineLimit: 1024);

        var payload = await store.PutAsync("job1", new[] { "a", "b" }, default);

        Assert.False(payload.IsReference);
        Assert.Equal("""["a","b"]""", payload.Value?.GetRawText());
        Assert.Equal(["a", "b"], await store.GetAsync<string[]>(payload, default));
        Assert.Empty(await store.ListJobAsync("job1", default));
    }

    /// <summary>
    /// A container that could not be created (storage not up yet, a fault past the retries) is tried again by the next
    /// write. (Found in review: the failed creation was kept, and every later write by reference failed with it until the
    /// process restarted.)
    /// </summary>
    [Fact]
    public async Task ContainerCreationFailed_TheNextWriteTriesAgain()
    {
        var down = new StorageDownPolicy();
        var container = azurite.GetContainer(configure: o =>
        {
            o.Retry.MaxRetries = 0;
            o.AddPolicy(down, Azure.Core.HttpPipelinePosition.PerCall);
        });
        var store = new PayloadStore(container, inlineLimit: 4);

        await Assert.ThrowsAnyAsync<Exception>(() => store.PutAsync("job1", new[] { "a large enough value" }, default));
        down.Up = true;
        var payload = await store.PutAsync("job1", new[] { "a large enough value" }, default);

        Assert.True(payload.IsReference);
        Assert.Equal(["a large enough value"], await store.GetAsync<string[]>(payload, default));
    }

    [Fact]
    public async Task InlineValue_HeldInHistoryAsJson_NotAsAnEscapedString_ReadBackEqual()
    {
        var container = await azurite.CreateContainerAsync("payloads");
        var store = new PayloadStore(container, inlineLimit: 1024);
        var payload = await store.PutAsync("job1", new[] { new { Request = "{\"inputs\":[1]}", Index = 0 } }, default);

        // As a durable backend keeps a step's input: serialised with the default options, then read back.
        var history = System.Text.Json.JsonSerializer.Serialize(payload);
        var restored = System.Text.Json.JsonSerializer.Deserialize<Payload>(history)!;

        Assert.StartsWith("{\"Value\":[{\"Request\":", history, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Inline\"", history, StringComparison.Ordinal);
        var item = Assert.Single(await store.GetAsync<System.Text.Json.JsonElement[]>(restored, default));
        Assert.Equal("{\"inputs\":[1]}", item.GetProperty("Request").GetString());
    }

    [Fact]
    public async Task InlineString_AsEarlierVersionsWroteIt_StillRead()
    {
        var container = await azurite.CreateContainerAsync("payloads");
        var store = new PayloadStore(container, inlineLimit: 1024);

        var earlier = System.Text.Json.JsonSerializer.Deserialize<Payload>("{\"Inline\":\"[\\\"a\\\",\\\"b\\\"]\",\"Blob\":null,\"Sha256\":null,\"Bytes\":9}")!;

        Assert.Equal(["a", "b"], await store.GetAsync<string[]>(earlier, default));
    }

    [Fact]
    public async Task LargeValue_GoesByReference_NamedByItsDigest_ReadBackWhole_WrittenOnce()
    {
        var container = await azurite.CreateContainerAsync("payloads");
        var store = new PayloadStore(container, inlineLimit: 1024);
        var value = new string('x', 5000);

        var payload = await store.PutAsync("job2", value, default);
        var again = await store.PutAsync("job2", value, default);

        Assert.True(payload.IsReference);
        Assert.Null(payload.Value);
        var bytes = Encoding.UTF8.GetBytes("\"" + value + "\"");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), payload.Sha256);
        Assert.Equal($"jobs/job2/{payload.Sha256}", payload.Blob);
        Assert.Equal(bytes.Length, payload.Bytes);
        Assert.Equal(payload, again);
        Assert.Equal(value, await store.GetAsync<string>(payload, default));
        Assert.Single(await store.ListJobAsync("job2", default));
    }

    [Fact]
    public async Task AlteredOrMissingBlob_IsNeverUsed()
    {
        var container = await azurite.CreateContainerAsync("payloads");
        var store = new PayloadStore(container, inlineLimit: 1024);
        var payload = await store.PutAsync("job3", new string('y', 4000), default);

        // Same length, one byte different: the digest catches it.
        var original = (await container.GetBlobClient(payload.Blob).DownloadContentAsync()).Value.Content.ToArray();
        original[10] = (byte)'z';
        await container.GetBlobClient(payload.Blob).UploadAsync(BinaryData.FromBytes(original), overwrite: true);
        var altered = await Assert.ThrowsAsync<PayloadIntegrityException>(() => store.GetAsync<string>(payload, default));
        Assert.Contains("digest", altered.Message, StringComparison.Ordinal);

        await container.DeleteBlobAsync(payload.Blob);
        var missing = await Assert.ThrowsAsync<PayloadIntegrityException>(() => store.GetAsync<string>(payload, default));
        Assert.Contains("missing", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteJob_RemovesThatJobsBlobsOnly()
    {
        var container = await azurite.CreateContainerAsync("payloads");
        var store = new PayloadStore(container, inlineLimit: 1024);
        await store.PutAsync("job4", new string('a', 2000), default);
        await store.PutAsync("job4", new string('b', 2000), default);
        var kept = await store.PutAsync("job5", new string('c', 2000), default);

        Assert.Equal(2, await store.DeleteJobAsync("job4", default));

        Assert.Empty(await store.ListJobAsync("job4", default));
        Assert.Equal(new string('c', 2000), await store.GetAsync<string>(kept, default));
        Assert.Equal(0, await store.DeleteJobAsync("no-such-job", default));
    }

    [Fact]
    public async Task JobsStoredBefore_ListsOnlyThisHubsJobs_WhoseBlobsAreAllOlder()
    {
        var container = await azurite.CreateContainerAsync("payloads");
        var mine = new PayloadStore(container, inlineLimit: 1024, taskHub: "hubone");
        var other = new PayloadStore(container, inlineLimit: 1024, taskHub: "hubtwo");
        var unnamed = new PayloadStore(container, inlineLimit: 1024);
        var large = new string('x', 2000);
        await mine.PutAsync("job1", large, default);
        await mine.PutAsync("job1", large + "y", default);
        await other.PutAsync("job2", large, default);
        await unnamed.PutAsync("job3", large, default);
        await mine.PutAsync("job4", large, default);
        await other.PutAsync("job4", large + "z", default);

        // Every blob written before the cutoff: only this hub's job whose blobs all name it.
        Assert.Equal(["job1"], await mine.JobsStoredBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), default));
        Assert.Equal(["job2"], await other.JobsStoredBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), default));

        // Written after it: none. A store that names no hub sweeps nothing.
        Assert.Empty(await mine.JobsStoredBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(-10), default));
        Assert.Empty(await unnamed.JobsStoredBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), default));
    }
}
