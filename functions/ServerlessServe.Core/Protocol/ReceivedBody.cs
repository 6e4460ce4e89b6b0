using System.Buffers;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// A request body in the pooled buffers it was read into (<see cref="HttpBodyReader.ReadSegmentsAsync"/>), in order, never
/// put together. <see cref="Content"/> is the body as one sequence; <see cref="Dispose"/> hands every buffer back to
/// <see cref="ArrayPool{T}.Shared"/> with the body's bytes in it wiped (once; later calls do nothing), after which
/// <see cref="Content"/> is empty. A body never disposed is only collected, as any array.
/// </summary>
public sealed class ReceivedBody : IDisposable
{
    private List<(byte[] Array, int Length)>? _parts;

    internal ReceivedBody(List<(byte[] Array, int Length)> parts)
    {
        _parts = parts;
        Content = Sequence(parts);
        Length = Content.Length;
    }

    /// <summary>The body's bytes.</summary>
    public ReadOnlySequence<byte> Content { get; private set; }

    /// <summary>How many bytes the body holds.</summary>
    public long Length { get; }

    /// <summary>Wraps a body already in one pooled buffer: its first <paramref name="length"/> bytes, handed back as any other part.</summary>
    public static ReceivedBody Pooled(byte[] buffer, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return new ReceivedBody([(buffer, length)]);
    }

    public void Dispose()
    {
        Content = ReadOnlySequence<byte>.Empty;
        if (Interlocked.Exchange(ref _parts, null) is { } parts)
        {
            foreach (var (array, length) in parts)
            {
                HttpBodyReader.Return(array, length);
            }
        }
    }

    private static ReadOnlySequence<byte> Sequence(List<(byte[] Array, int Length)> parts)
    {
        Part? first = null;
        Part? last = null;
        foreach (var (array, length) in parts)
        {
            if (length == 0)
            {
                continue;
            }

            var memory = array.AsMemory(0, length);
            if (last is null)
            {
                first = last = new Part(memory, 0);
            }
            else
            {
                last = last.Append(memory);
            }
        }

        return first is null ? ReadOnlySequence<byte>.Empty
            : ReferenceEquals(first, last) ? new ReadOnlySequence<byte>(first.Memory)
            : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Part : ReadOnlySequenceSegment<byte>
    {
        public Part(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Part Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Part(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
