using System.Reflection;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>A function with a trigger other than HTTP, as the build's <c>functions.metadata</c> declares it.</summary>
/// <param name="Name">The function's name.</param>
/// <param name="TriggerType">The trigger's binding type, e.g. <c>orchestrationTrigger</c>.</param>
/// <param name="Method">The method the Functions host would call.</param>
/// <param name="Properties">The trigger binding's string-valued properties (a timer's <c>schedule</c>, ...).</param>
public sealed record TriggeredFunction(string Name, string TriggerType, MethodInfo Method, IReadOnlyDictionary<string, string> Properties);

/// <summary>
/// The functions with triggers other than HTTP that the standalone host found in <c>functions.metadata</c>. A feature
/// that can run some trigger type standalone (durable orchestrations and activities) registers an
/// <see cref="IStandaloneTriggerSupport"/> and takes its functions from here; the host refuses to start when a declared
/// function's trigger has no support, so what the metadata declares is exactly what runs.
/// </summary>
public sealed class StandaloneFunctions(IReadOnlyList<TriggeredFunction> functions)
{
    public IReadOnlyList<TriggeredFunction> Functions { get; } = functions;

    /// <summary>The functions whose trigger is <paramref name="triggerType"/>.</summary>
    public IEnumerable<TriggeredFunction> WithTrigger(string triggerType) =>
        Functions.Where(f => string.Equals(f.TriggerType, triggerType, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Says which non-HTTP trigger types a registered feature runs under the standalone host.</summary>
public interface IStandaloneTriggerSupport
{
    IReadOnlyCollection<string> TriggerTypes { get; }
}
