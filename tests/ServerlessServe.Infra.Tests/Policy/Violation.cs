namespace ServerlessServe.Infra.Tests.Policy;

/// <summary>One resource breaking one rule, and why.</summary>
public sealed record Violation(string Rule, string Resource, string Reason)
{
    public override string ToString() => $"[{Rule}] {Resource}: {Reason}";
}
