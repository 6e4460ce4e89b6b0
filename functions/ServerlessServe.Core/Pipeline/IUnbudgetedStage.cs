namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// A stage whose time does not count against <see cref="DeadlineOptions.Request"/>: it waits on the caller (receiving
/// the body), not on a dependency, and is bounded by its own limits. The request's clock stops while it runs.
/// </summary>
public interface IUnbudgetedStage
{
}
