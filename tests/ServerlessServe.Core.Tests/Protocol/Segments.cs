using System.Buffers;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>A body as a sequence of buffers of 1 to <c>maxPiece</c> bytes (seeded), as a body read into several buffers is held.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] body, int seed, int maxPiece)
    {
        var random = new Random(seed);
        Piece? first = null;
        Piece? last = null;
        for (var at = 0; at < body.Length;)
        {
            var length = Math.Min(body.Length - at, random.Next(1, maxPiece + 1));
            var piece = new Piece(body.AsMemory(at, length).ToArray(), at);
            if (last is null)
            {
                first = piece;
            }
            else
            {
                last.SetNext(piece);
            }

            last = piece;
            at += length;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Piece : ReadOnlySequenceSegment<byte>
    {
        public Piece(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public void SetNext(Piece next) => Next = next;
    }
}
