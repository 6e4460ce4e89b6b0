using System.Buffers;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// Kestrel receives into 64 KiB blocks from <see cref="ReceiveBlockMemoryPool"/> in both hosts, and the pool stays
/// bounded: past its budget a small request gets a 4 KiB block, a returned block is reused once and only once, and no
/// more blocks are kept than its caps.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class ReceiveBlockTests(InProcessStack stack)
{
    [Fact]
    public async Task LargeBody_OverRealSockets_ReadThroughLargeBlocks_AnsweredIntact()
    {
        var server = await stack.SocketGatewayAsync();
        var factory = Assert.IsType<ReceiveBlockMemoryPoolFactory>(stack.SocketGatewayServices.GetRequiredService<IMemoryPoolFactory<byte>>());
        var before = factory.LargeBlocksRented;

        // A valid credit-risk request followed by 600 KB of JSON whitespace: the body Kestrel receives is an image's size.
        var body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""" + new string(' ', 600_000);
        using var http = new HttpClient { BaseAddress = server };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v2/models/credit-risk/infer")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", stack.CallerToken("receive-block-tests"));

        using var response = await http.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("credit-risk", answer.RootElement.GetProperty("model_name").GetString());

        // 600 KB in 64 KiB blocks: at least nine of them, where Kestrel's own pool would have lent none.
        Assert.True(factory.LargeBlocksRented - before >= 9, $"large blocks rented: {factory.LargeBlocksRented - before}");
    }

    [Fact]
    public void FunctionsHostBuilder_KestrelGetsThisPool()
    {
        // Under the Functions host the worker's own Kestrel (ASP.NET Core integration) receives what the host forwards.
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.ConfigureFunctionsWebApplication();
        builder.AddServerlessServe();
        using var host = builder.Build();

        Assert.IsType<ReceiveBlockMemoryPoolFactory>(host.Services.GetRequiredService<IMemoryPoolFactory<byte>>());
    }

    [Fact]
    public void Rent_WithinBudget_LargeBlock()
    {
        using var pool = new ReceiveBlockMemoryPool(4 * ReceiveBlockMemoryPool.LargeBlockSize);

        using var block = pool.Rent(4096);

        Assert.Equal(ReceiveBlockMemoryPool.LargeBlockSize, block.Memory.Length);
        Assert.Equal(1, pool.LargeBlocksOut);
        Assert.Equal(ReceiveBlockMemoryPool.LargeBlockSize, pool.MaxBufferSize);
    }

    [Fact]
    public void Rent_BudgetSpent_SmallBlockForSmallAsks_LargeBlockWhenMoreIsAsked()
    {
        using var pool = new ReceiveBlockMemoryPool(2 * ReceiveBlockMemoryPool.LargeBlockSize);
        using var first = pool.Rent();
        using var second = pool.Rent(1);

        using var small = pool.Rent(4096);
        using var unspecified = pool.Rent();
        using var big = pool.Rent(8192);

        Assert.Equal(ReceiveBlockMemoryPool.LargeBlockSize, second.Memory.Length);
        Assert.Equal(ReceiveBlockMemoryPool.SmallBlockSize, small.Memory.Length);
        Assert.Equal(ReceiveBlockMemoryPool.SmallBlockSize, unspecified.Memory.Length);
        Assert.Equal(ReceiveBlockMemoryPool.LargeBlockSize, big.Memory.Length);
        Assert.Equal(3, pool.LargeBlocksOut);
    }

    [Fact]
    public void Rent_ZeroBudget_OnlySmallBlocks_AsKestrelsOwnPool()
    {
        using var pool = new ReceiveBlockMemoryPool(0);

        using var block = pool.Rent(4096);

        Assert.Equal(ReceiveBlockMemoryPool.SmallBlockSize, block.Memory.Length);
        Assert.Equal(0, pool.LargeBlocksOut);
    }

    [Fact]
    public void Rent_MoreThanALargeBlock_Refused()
    {
        using var pool = new ReceiveBlockMemoryPool(1 << 20);

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(ReceiveBlockMemoryPool.LargeBlockSize + 1));
        Assert.Equal(0, pool.LargeBlocksOut);
    }

    [Fact]
    public void Return_FreesBudget_AndTheBlockIsReused()
    {
        using var pool = new ReceiveBlockMemoryPool(ReceiveBlockMemoryPool.LargeBlockSize);
        var first = pool.Rent();
        var array = ArrayOf(first);
        Assert.Equal(ReceiveBlockMemoryPool.SmallBlockSize, pool.Rent().Memory.Length);

        first.Dispose();
        using var again = pool.Rent();

        Assert.Same(array, ArrayOf(again));
        Assert.Equal(1, pool.LargeBlocksOut);
    }

    [Fact]
    public void DisposeTwice_BlockQueuedOnce_NeverLentToTwoOwners()
    {
        using var pool = new ReceiveBlockMemoryPool(1 << 20);
        var block = pool.Rent();

        block.Dispose();
        block.Dispose();
        using var a = pool.Rent();
        using var b = pool.Rent();

        Assert.NotSame(ArrayOf(a), ArrayOf(b));
        Assert.Equal(2, pool.LargeBlocksOut);
    }

    [Fact]
    public void MemoryAfterDispose_Refused()
    {
        using var pool = new ReceiveBlockMemoryPool(1 << 20);
        var block = pool.Rent();
        block.Dispose();

        Assert.Throws<ObjectDisposedException>(() => block.Memory);
    }

    [Fact]
    public void Retained_CappedByKind()
    {
        using var pool = new ReceiveBlockMemoryPool(300L * ReceiveBlockMemoryPool.LargeBlockSize);
        var large = Enumerable.Range(0, 300).Select(_ => pool.Rent()).ToList();
        var small = Enumerable.Range(0, 1100).Select(_ => pool.Rent()).ToList();
        Assert.All(small, s => Assert.Equal(ReceiveBlockMemoryPool.SmallBlockSize, s.Memory.Length));

        large.ForEach(b => b.Dispose());
        small.ForEach(b => b.Dispose());

        Assert.Equal((ReceiveBlockMemoryPool.MaxRetainedLarge, ReceiveBlockMemoryPool.MaxRetainedSmall), pool.Retained);
        Assert.Equal(0, pool.LargeBlocksOut);
    }

    [Fact]
    public async Task ConcurrentRentAndReturn_BudgetHeld_NoBlockSharedBetweenOwners()
    {
        const int Budget = 8;
        using var pool = new ReceiveBlockMemoryPool(Budget * ReceiveBlockMemoryPool.LargeBlockSize);
        var owners = new System.Collections.Concurrent.ConcurrentDictionary<byte[], int>(ReferenceEqualityComparer.Instance);
        long mostOut = 0;
        var failures = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                using var block = pool.Rent(i % 3 == 0 ? -1 : 4096);
                var array = ArrayOf(block);
                if (!owners.TryAdd(array, worker))
                {
                    Interlocked.Increment(ref failures);
                }

                long seen;
                while ((seen = Interlocked.Read(ref mostOut)) < pool.LargeBlocksOut && Interlocked.CompareExchange(ref mostOut, pool.LargeBlocksOut, seen) != seen)
                {
                }

                owners.TryRemove(array, out _);
            }
        })));

        Assert.Equal(0, failures);
        Assert.InRange(mostOut, 1, Budget);
        Assert.Equal(0, pool.LargeBlocksOut);
    }

    [Fact]
    public void Factory_EveryPoolDrawsOnOneBudget()
    {
        // Kestrel asks for a pool per I/O queue (one per core, up to 16): the bound is the app's, not each pool's.
        var factory = Factory(2 * ReceiveBlockMemoryPool.LargeBlockSize);
        using var first = factory.Create();
        using var second = factory.Create();

        using var a = first.Rent(4096);
        using var b = second.Rent(4096);
        using var c = second.Rent(4096);
        using var d = first.Rent(4096);

        Assert.Equal(ReceiveBlockMemoryPool.LargeBlockSize, a.Memory.Length);
        Assert.Equal(ReceiveBlockMemoryPool.LargeBlockSize, b.Memory.Length);
        Assert.Equal(ReceiveBlockMemoryPool.SmallBlockSize, c.Memory.Length);
        Assert.Equal(ReceiveBlockMemoryPool.SmallBlockSize, d.Memory.Length);
        Assert.Equal(2, factory.LargeBlocksOut);

        a.Dispose();
        using var e = second.Rent(4096);
        Assert.Equal(ReceiveBlockMemoryPool.LargeBlockSize, e.Memory.Length);
    }

    [Fact]
    public void Factory_BlocksKeptForReuse_CappedAcrossPools()
    {
        var factory = Factory(1L << 30);
        var pools = Enumerable.Range(0, 2).Select(_ => (ReceiveBlockMemoryPool)factory.Create()).ToList();
        var blocks = pools.SelectMany(p => Enumerable.Range(0, 200).Select(_ => p.Rent())).ToList();

        blocks.ForEach(b => b.Dispose());

        Assert.Equal(ReceiveBlockMemoryPool.MaxRetainedLarge, pools[0].Retained.Large);
        Assert.Equal(0, factory.LargeBlocksOut);
        pools.ForEach(p => p.Dispose());
    }

    [Fact]
    public void Factory_SizedByEdgeOptions()
    {
        var factory = Factory(0);

        using var pool = factory.Create();
        using var block = pool.Rent(4096);

        Assert.Equal(ReceiveBlockMemoryPool.SmallBlockSize, block.Memory.Length);
    }

    private static ReceiveBlockMemoryPoolFactory Factory(long receiveBlockMemoryBytes) =>
        new(Microsoft.Extensions.Options.Options.Create(new EdgeOptions { ReceiveBlockMemoryBytes = receiveBlockMemoryBytes }));

    private static byte[] ArrayOf(IMemoryOwner<byte> block)
    {
        Assert.True(MemoryMarshal.TryGetArray<byte>(block.Memory, out var segment));
        return segment.Array!;
    }
}
