using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// The memory Kestrel's sockets transport receives requests into and sends responses from. Kestrel's own pool hands out
/// 4 KiB blocks, so a 600 KB image arrives in about 150 receive calls; this pool hands out 64 KiB blocks
/// (<see cref="LargeBlockSize"/>), so it arrives in about ten. Large blocks are bounded: while
/// <see cref="EdgeOptions.ReceiveBlockMemoryBytes"/> are out (in every pool of the app, which share one budget), a
/// request for up to 4 KiB gets a 4 KiB block
/// (<see cref="SmallBlockSize"/>), as from Kestrel's pool, so many slow connections each holding a partial request cannot
/// make the process hold sixteen times the memory they would hold with Kestrel's pool.
/// </summary>
/// <remarks>
/// <para>
/// Blocks are pinned arrays, handed to the socket without pinning each time. At most <see cref="MaxRetainedLarge"/>
/// large and <see cref="MaxRetainedSmall"/> small blocks are kept for reuse; beyond that a returned block is left to the
/// collector, so a burst does not hold memory for ever.
/// </para>
/// <para>
/// A block is not wiped when it returns: like Kestrel's own pool, it only ever holds bytes that crossed this process's
/// sockets, and the pipe that owns it lets a reader see only what was written into it since it was rented.
/// </para>
/// </remarks>
public sealed class ReceiveBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of a large block: 64 KiB, what one loopback receive returns at most.</summary>
    public const int LargeBlockSize = 64 * 1024;

    /// <summary>The size of a small block: 4 KiB, Kestrel's own.</summary>
    public const int SmallBlockSize = 4 * 1024;

    /// <summary>Large blocks kept for reuse at most, by all the pools of a budget together (16 MiB).</summary>
    public const int MaxRetainedLarge = 256;

    /// <summary>Small blocks kept for reuse at most, by all the pools of a budget together (4 MiB).</summary>
    public const int MaxRetainedSmall = 1024;

    private readonly ConcurrentQueue<Block> _freeLarge = new();
    private readonly ConcurrentQueue<Block> _freeSmall = new();
    private readonly Budget _budget;
    private long _largeOut;
    private long _largeRented;
    private volatile bool _disposed;

    /// <summary>A pool that lends at most <paramref name="largeBlockBytes"/> bytes of large blocks at once (0: none).</summary>
    public ReceiveBlockMemoryPool(long largeBlockBytes)
        : this(new Budget(largeBlockBytes))
    {
    }

    /// <summary>A pool whose large blocks count against <paramref name="budget"/>, shared with other pools.</summary>
    internal ReceiveBlockMemoryPool(Budget budget)
    {
        _budget = budget;
    }

    /// <inheritdoc />
    public override int MaxBufferSize => LargeBlockSize;

    /// <summary>Large blocks this pool lent and not yet returned.</summary>
    public long LargeBlocksOut => Interlocked.Read(ref _largeOut);

    /// <summary>Large blocks lent since the pool was made (for tests and diagnostics).</summary>
    public long LargeBlocksRented => Interlocked.Read(ref _largeRented);

    /// <summary>Blocks held for reuse now, large and small, by every pool that shares this pool's budget.</summary>
    public (int Large, int Small) Retained => (Volatile.Read(ref _budget.RetainedLarge), Volatile.Read(ref _budget.RetainedSmall));

    /// <summary>
    /// A block of at least <paramref name="minBufferSize"/> bytes (at most <see cref="LargeBlockSize"/>): a large one
    /// while the budget allows or when more than a small one is asked for, else a small one.
    /// </summary>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, LargeBlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var large = _budget.TryTake();
        if (!large && minBufferSize > SmallBlockSize)
        {
            // More than a small block asked for: lent even past the budget (what Rent promises), and counted.
            _budget.Force();
            large = true;
        }

        if (large)
        {
            Interlocked.Increment(ref _largeOut);
            Interlocked.Increment(ref _largeRented);
            return Take(_freeLarge, ref _budget.RetainedLarge, LargeBlockSize);
        }

        return Take(_freeSmall, ref _budget.RetainedSmall, SmallBlockSize);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        Interlocked.Add(ref _budget.RetainedLarge, -_freeLarge.Count);
        Interlocked.Add(ref _budget.RetainedSmall, -_freeSmall.Count);
        _freeLarge.Clear();
        _freeSmall.Clear();
    }

    private Block Take(ConcurrentQueue<Block> free, ref int retained, int size)
    {
        if (free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref retained);
            block.Lease();
            return block;
        }

        return new Block(this, GC.AllocateUninitializedArray<byte>(size, pinned: true));
    }

    private void Return(Block block)
    {
        var large = block.Size == LargeBlockSize;
        if (large)
        {
            Interlocked.Decrement(ref _largeOut);
            _budget.Give();
        }

        if (_disposed)
        {
            return;
        }

        var (free, cap) = large ? (_freeLarge, MaxRetainedLarge) : (_freeSmall, MaxRetainedSmall);
        ref var retained = ref large ? ref _budget.RetainedLarge : ref _budget.RetainedSmall;
        if (Interlocked.Increment(ref retained) > cap)
        {
            Interlocked.Decrement(ref retained);
            return;
        }

        free.Enqueue(block);
    }

    /// <summary>Large blocks that may be out at once, counted across every pool that shares it.</summary>
    internal sealed class Budget(long bytes)
    {
        private readonly long _max = bytes / LargeBlockSize;
        private long _out;

        /// <summary>Large blocks kept for reuse by every pool that shares this budget (at most <see cref="MaxRetainedLarge"/>).</summary>
        public int RetainedLarge;

        /// <summary>Small blocks kept for reuse by every pool that shares this budget (at most <see cref="MaxRetainedSmall"/>).</summary>
        public int RetainedSmall;

        /// <summary>Large blocks out now, in every pool that shares this budget.</summary>
        public long Out => Interlocked.Read(ref _out);

        public bool TryTake()
        {
            if (Interlocked.Increment(ref _out) <= _max)
            {
                return true;
            }

            Interlocked.Decrement(ref _out);
            return false;
        }

        public void Force() => Interlocked.Increment(ref _out);

        public void Give() => Interlocked.Decrement(ref _out);
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly ReceiveBlockMemoryPool _pool;
        private readonly byte[] _array;
        private int _leased;

        public Block(ReceiveBlockMemoryPool pool, byte[] array)
        {
            _pool = pool;
            _array = array;
            _leased = 1;
        }

        public int Size => _array.Length;

        public Memory<byte> Memory
        {
            get
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _leased) == 0, this);
                return MemoryMarshal.CreateFromPinnedArray(_array, 0, _array.Length);
            }
        }

        public void Lease() => Volatile.Write(ref _leased, 1);

        public void Dispose()
        {
            // Once: a second Dispose of the same lease must not queue the block twice.
            if (Interlocked.Exchange(ref _leased, 0) == 1)
            {
                _pool.Return(this);
            }
        }
    }
}

/// <summary>
/// Gives Kestrel's sockets transport a <see cref="ReceiveBlockMemoryPool"/> each time it asks (one per I/O queue of each
/// listening address: as many as the machine has cores, up to 16), all drawing on one budget of large blocks,
/// <see cref="EdgeOptions.ReceiveBlockMemoryBytes"/>, so the bound holds for the whole app however many pools there are.
/// </summary>
public sealed class ReceiveBlockMemoryPoolFactory(IOptions<EdgeOptions> edge) : IMemoryPoolFactory<byte>
{
    private readonly ConcurrentBag<ReceiveBlockMemoryPool> _pools = [];
    private readonly Lazy<ReceiveBlockMemoryPool.Budget> _budget = new(() => new ReceiveBlockMemoryPool.Budget(edge.Value.ReceiveBlockMemoryBytes));

    /// <summary>Large blocks lent so far by every pool this factory made (for tests and diagnostics).</summary>
    public long LargeBlocksRented => _pools.Sum(p => p.LargeBlocksRented);

    /// <summary>Large blocks out now, across every pool this factory made.</summary>
    public long LargeBlocksOut => _budget.IsValueCreated ? _budget.Value.Out : 0;

    /// <inheritdoc />
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new ReceiveBlockMemoryPool(_budget.Value);
        _pools.Add(pool);
        return pool;
    }
}
