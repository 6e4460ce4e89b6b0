using System.Collections.Concurrent;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>
/// Pooled tensor arrays: reused only at the same datatype and element count, only after every holder of their lease has
/// let go, wiped on the way back, and never more than the pool's bounds.
/// </summary>
public sealed class TensorArrayPoolTests
{
    // 80,000 bytes: above the pool's smallest size.
    private const int Count = 20_000;
    private const long Bytes = Count * sizeof(float);

    [Fact]
    public void Rent_AfterTheLeaseIsReleased_TheSameArrayComesBackWiped()
    {
        var pool = new TensorArrayPool(1024 * 1024);
        var first = pool.Lease();
        var array = (float[])first.Rent(TensorDataType.Fp32, Count);
        Array.Fill(array, 7f);

        first.Release();

        Assert.True(first.IsReleased);
        Assert.Equal(Bytes, pool.RetainedBytes);
        Assert.All(array, v => Assert.Equal(0f, v));
        var second = pool.Lease();
        Assert.Same(array, second.Rent(TensorDataType.Fp32, Count));
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void Rent_WhileAnotherLeaseHoldsTheArray_ANewArray()
    {
        var pool = new TensorArrayPool(1024 * 1024);
        var first = pool.Lease();
        var array = first.Rent(TensorDataType.Fp32, Count);

        var second = pool.Lease();

        Assert.NotSame(array, second.Rent(TensorDataType.Fp32, Count));
    }

    [Theory]
    [InlineData(TensorDataType.Int32, Count)]
    [InlineData(TensorDataType.Fp32, Count + 1)]
    [InlineData(TensorDataType.Fp32, Count - 1)]
    public void Rent_OtherDatatypeOrCount_NotTheKeptArray(TensorDataType type, int count)
    {
        var pool = new TensorArrayPool(1024 * 1024);
        var first = pool.Lease();
        var array = first.Rent(TensorDataType.Fp32, Count);
        first.Release();

        var other = pool.Lease().Rent(type, count);

        Assert.NotSame(array, other);
        Assert.Equal(count, other.Length);
        Assert.Equal(Bytes, pool.RetainedBytes);
    }

    [Theory]
    [InlineData(1024 * 1024, TensorDataType.Fp32, 100)]
    [InlineData(0, TensorDataType.Fp32, Count)]
    [InlineData(Bytes - 1, TensorDataType.Fp32, Count)]
    public void Rent_TooSmallBytesOrPoolOff_AllocatedAndNeverKept(long maxRetained, TensorDataType type, int count)
    {
        var pool = new TensorArrayPool(maxRetained);
        var lease = pool.Lease();

        Assert.False(pool.Pools(type, count));
        var array = lease.Rent(type, count);
        lease.Release();

        Assert.Equal(count, array.Length);
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void Pools_BytesTensors_Never()
    {
        // BYTES elements are arrays of their own, decoded apart: nothing of theirs is pooled.
        Assert.False(new TensorArrayPool(1024 * 1024).Pools(TensorDataType.Bytes, Count));
    }

    [Fact]
    public void Release_WhileAnotherHolds_ArraysStayUntilTheLastLetsGo()
    {
        var pool = new TensorArrayPool(1024 * 1024);
        var lease = pool.Lease();
        var array = (float[])lease.Rent(TensorDataType.Fp32, Count);
        Array.Fill(array, 3f);
        Assert.True(lease.TryHold());

        lease.Release();

        Assert.False(lease.IsReleased);
        Assert.Equal(0, pool.RetainedBytes);
        Assert.All(array, v => Assert.Equal(3f, v));

        lease.Release();

        Assert.True(lease.IsReleased);
        Assert.Equal(Bytes, pool.RetainedBytes);
    }

    [Fact]
    public void AfterRelease_NoHoldNoRentAndNoSecondRelease()
    {
        var pool = new TensorArrayPool(1024 * 1024);
        var lease = pool.Lease();
        lease.Rent(TensorDataType.Fp32, Count);
        lease.Release();

        Assert.False(lease.TryHold());
        Assert.Throws<ObjectDisposedException>(() => lease.Rent(TensorDataType.Fp32, Count));
        Assert.Throws<InvalidOperationException>(lease.Release);
        Assert.False(lease.TryHold());
        Assert.Equal(Bytes, pool.RetainedBytes);
    }

    [Fact]
    public void HoldAll_HoldsEachLeaseOnce_UntilDisposed_ThenNeverAgainAfterRelease()
    {
        var pool = new TensorArrayPool(1024 * 1024);
        var lease = pool.Lease();
        var a = new Tensor("a", TensorDataType.Fp32, [Count], lease.Rent(TensorDataType.Fp32, Count)) { Lease = lease };
        var b = new Tensor("b", TensorDataType.Fp32, [Count], lease.Rent(TensorDataType.Fp32, Count)) { Lease = lease };
        var plain = new Tensor("c", TensorDataType.Fp32, [1], new float[1]);

        var holds = TensorLease.HoldAll([a, b, plain]);
        lease.Release();
        Assert.Equal(0, pool.RetainedBytes);

        holds.Dispose();
        holds.Dispose();
        Assert.Equal(2 * Bytes, pool.RetainedBytes);

        Assert.Throws<ObjectDisposedException>(() => TensorLease.HoldAll([plain, a]));
    }

    [Fact]
    public void Return_BeyondTheBytesCap_OldestDroppedFirst()
    {
        var pool = new TensorArrayPool((3 * Bytes) + 100);
        var arrays = new Array[4];
        for (var i = 0; i < arrays.Length; i++)
        {
            var lease = pool.Lease();
            arrays[i] = lease.Rent(TensorDataType.Fp32, Count + i);
            lease.Release();
        }

        Assert.True(pool.RetainedBytes <= pool.MaxRetainedBytes);
        Assert.NotSame(arrays[0], pool.Lease().Rent(TensorDataType.Fp32, Count));
        Assert.Same(arrays[3], pool.Lease().Rent(TensorDataType.Fp32, Count + 3));
    }

    [Fact]
    public void Return_BeyondTheSlots_OldestDroppedFirst()
    {
        var pool = new TensorArrayPool(1024 * 1024 * 64, slots: 2);
        var arrays = new Array[3];
        for (var i = 0; i < arrays.Length; i++)
        {
            var lease = pool.Lease();
            arrays[i] = lease.Rent(TensorDataType.Fp32, Count + i);
            lease.Release();
        }

        Assert.Equal((2 * Bytes) + (3 * sizeof(float)), pool.RetainedBytes);
        Assert.NotSame(arrays[0], pool.Lease().Rent(TensorDataType.Fp32, Count));
        Assert.Same(arrays[1], pool.Lease().Rent(TensorDataType.Fp32, Count + 1));
        Assert.Same(arrays[2], pool.Lease().Rent(TensorDataType.Fp32, Count + 2));
    }

    [Fact]
    public async Task ConcurrentRequests_NoArrayIsEverInTwoLeasesAtOnce_AndEachKeepsItsOwnValues()
    {
        var pool = new TensorArrayPool(8 * Bytes, slots: 4);
        var inUse = new ConcurrentDictionary<Array, int>(ReferenceEqualityComparer.Instance);
        var reused = 0;
        var seen = new ConcurrentDictionary<Array, byte>(ReferenceEqualityComparer.Instance);

        await Parallel.ForEachAsync(Enumerable.Range(1, 400), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (caller, token) =>
        {
            var lease = pool.Lease();
            var array = (float[])lease.Rent(TensorDataType.Fp32, Count);
            Assert.True(inUse.TryAdd(array, caller), "an array handed to two leases at once");
            if (!seen.TryAdd(array, 0))
            {
                Interlocked.Increment(ref reused);
            }

            Array.Fill(array, (float)caller);
            await Task.Yield();
            Assert.True(array.AsSpan().IndexOfAnyExcept((float)caller) < 0, "another caller's values in this caller's array");
            Assert.True(inUse.TryRemove(array, out _));
            lease.Release();
        });

        Assert.True(reused > 0, "no array was reused");
        Assert.True(pool.RetainedBytes <= pool.MaxRetainedBytes);
    }
}
