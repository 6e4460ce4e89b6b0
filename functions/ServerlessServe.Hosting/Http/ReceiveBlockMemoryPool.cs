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
/// <see cref="EdgeOptions.ReceiveBlockMemoryBytes"/> are out, a request for up to 4 KiB gets a 4 KiB block
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

    /// <summary>Large blocks kept for reuse at most (16 MiB).</summary>
    public const int MaxRetainedLarge = 256;

    /// <summary>Small blocks kept for reuse at most (4 MiB).</summary>
    public const int MaxRetainedSmall = 1024;

    private readonly ConcurrentQueue<Block> _freeLarge = new();
    private readonly ConcurrentQueue<Block> _freeSmall = new();
    private readonly long _maxLargeOut;
    private long _largeOut;
    private long _largeRented;
    private int _retainedLarge;
    private int _retainedSmall;
    private volatile bool _disposed;

    /// <summary>A pool that lends at most <paramref name="largeBlockBytes"/> bytes of large blocks at once (0: none).</summary>
    public ReceiveBlockMemoryPool(long largeBlockBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(largeBlockBytes);
        _maxLargeOut = largeBlockBytes / LargeBlockSize;
    }

    /// <inheritdoc />
    public override int MaxBufferSize => LargeBlockSize;

    /// <summary>Large blocks lent and not yet returned.</summary>
    public long LargeBlocksOut => Interlocked.Read(ref _largeOut);

    /// <summary>Large blocks lent since the pool was made (for tests and diagnostics).</summary>
    public long LargeBlocksRented => Interlocked.Read(ref _largeRented);

    /// <summary>Blocks held for reuse now, large and small.</summary>
    public (int Large, int Small) Retained => (Volatile.Read(ref _retainedLarge), Volatile.Read(ref _retainedSmall));

    /// <summary>
    /// A block of at least <paramref name="minBufferSize"/> bytes (at most <see cref="LargeBlockSize"/>): a large one
    /// while the budget allows or when more than a small one is asked for, else a small one.
    /// </summary>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, LargeBlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var largeOut = Interlocked.Increment(ref _largeOut);
        if (minBufferSize > SmallBlockSize || largeOut <= _maxLargeOut)
        {
            Interlocked.Increment(ref _largeRented);
            return Take(_freeLarge, ref _retainedLarge, LargeBlockSize);
        }

        Interlocked.Decrement(ref _largeOut);
        return Take(_freeSmall, ref _retainedSmall, SmallBlockSize);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _freeLarge.Clear();
        _freeSmall.Clear();
        Volatile.Write(ref _retainedLarge, 0);
        Volatile.Write(ref _retainedSmall, 0);
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
        }

        if (_disposed)
        {
            return;
        }

        var (free, cap) = large ? (_freeLarge, MaxRetainedLarge) : (_freeSmall, MaxRetainedSmall);
        ref var retained = ref large ? ref _retainedLarge : ref _retainedSmall;
        if (Interlocked.Increment(ref retained) > cap)
        {
            Interlocked.Decrement(ref retained);
            return;
        }

        free.Enqueue(block);
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
/// Gives Kestrel's sockets transport a <see cref="ReceiveBlockMemoryPool"/> for each listener (Kestrel takes its pools
/// from the <see cref="IMemoryPoolFactory{T}"/> service), sized by <see cref="EdgeOptions.ReceiveBlockMemoryBytes"/>.
/// </summary>
public sealed class ReceiveBlockMemoryPoolFactory(IOptions<EdgeOptions> edge) : IMemoryPoolFactory<byte>
{
    private readonly ConcurrentBag<ReceiveBlockMemoryPool> _pools = [];

    /// <summary>Large blocks lent so far by every pool this factory made (for tests and diagnostics).</summary>
    public long LargeBlocksRented => _pools.Sum(p => p.LargeBlocksRented);

    /// <inheritdoc />
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new ReceiveBlockMemoryPool(edge.Value.ReceiveBlockMemoryBytes);
        _pools.Add(pool);
        return pool;
    }
}
