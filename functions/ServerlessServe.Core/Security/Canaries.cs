using System.Collections.Frozen;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Security;

/// <summary>
/// The tripwires of a deployment: honey model names (served nowhere, listed nowhere), honey token subjects (never
/// issued to anyone), canary values (<see cref="CanaryTokens"/>) and what an alarm does to the caller it names. Empty
/// lists switch the matching checks off. Immutable.
/// </summary>
public sealed class Canaries
{
    private readonly FrozenSet<string> _honeyModels;
    private readonly FrozenSet<string> _honeySubjects;

    /// <summary>Throws when a honey model name is not a valid model name (<see cref="IsValidHoneyModel"/>) or a subject is empty.</summary>
    public Canaries(IEnumerable<string> honeyModels, IEnumerable<string> honeySubjects, CanaryTokens tokens, ContainmentAction action)
    {
        ArgumentNullException.ThrowIfNull(honeyModels);
        ArgumentNullException.ThrowIfNull(honeySubjects);
        _honeyModels = honeyModels.ToFrozenSet(StringComparer.Ordinal);
        _honeySubjects = honeySubjects.ToFrozenSet(StringComparer.Ordinal);
        if (_honeyModels.Any(m => !IsValidHoneyModel(m)))
        {
            throw new ArgumentException("A honey model name is not a valid model name.", nameof(honeyModels));
        }

        if (_honeySubjects.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("A honey subject is empty.", nameof(honeySubjects));
        }

        Tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        Action = action ?? throw new ArgumentNullException(nameof(action));
    }

    /// <summary>No tripwires.</summary>
    public static Canaries Off { get; } = new([], [], CanaryTokens.None, ContainmentAction.None);

    /// <summary>The canary values.</summary>
    public CanaryTokens Tokens { get; }

    /// <summary>What an alarm that names a caller does to it (an alarm that names no caller records only).</summary>
    public ContainmentAction Action { get; }

    /// <summary>
    /// When true, a <c>canary-output</c> alarm quarantines the model version that released the canary (until lifted;
    /// the previous good version serves "latest") instead of acting on the caller: for canaries planted in training
    /// data, where the version that emits one is the leak. Default false.
    /// </summary>
    public bool QuarantineOnOutput { get; init; }

    public int HoneyModelCount => _honeyModels.Count;

    public int HoneySubjectCount => _honeySubjects.Count;

    /// <summary>True when <paramref name="model"/> (as the route names it) is a honey model.</summary>
    public bool IsHoneyModel(string? model) => model is not null && _honeyModels.Contains(model);

    /// <summary>True when <paramref name="subject"/> (a validated token's <c>sub</c>) is a honey subject.</summary>
    public bool IsHoneySubject(string? subject) => subject is not null && _honeySubjects.Contains(subject);

    /// <summary>
    /// True when <paramref name="name"/> is a name a caller can request: a honey model that is not a valid model name
    /// would be refused as invalid before anyone looked it up, and never alarm.
    /// </summary>
    public static bool IsValidHoneyModel(string? name) => ModelNames.IsValidName(name);
}
