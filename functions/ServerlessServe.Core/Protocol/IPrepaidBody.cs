namespace ServerlessServe.Core.Protocol;

/// <summary>
/// A body stream told, by a reader about to make arrays for bytes still to arrive, how many it will hold: the streamed
/// binary reader makes each tensor's array at its declared size before its bytes come (<see cref="V2Json.ReadRequestAsync"/>).
/// A count of the body's bytes (<c>CountedBodyStream</c>) counts them then, ahead, and may refuse them
/// (<see cref="Pipeline.RefusedException"/>) before anything is made for them.
/// </summary>
public interface IPrepaidBody
{
    /// <summary>Counts <paramref name="bytes"/> still to arrive ahead of them; throws <see cref="Pipeline.RefusedException"/> when they may not be.</summary>
    void Prepay(long bytes);
}
