using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Limits;

/// <summary>A count of one request's body bytes that grows as its body is read (<see cref="CountedBodyStream"/>).</summary>
public interface IBodyCount
{
    /// <summary>Counts <paramref name="bytes"/> more; a refusal (nothing counted) when the count may not grow.</summary>
    Refusal? TryGrow(long bytes);
}
