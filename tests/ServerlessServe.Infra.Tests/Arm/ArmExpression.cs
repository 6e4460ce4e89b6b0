using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Arm;

/// <summary>A node of a parsed ARM template language expression (the text between <c>[</c> and <c>]</c>).</summary>
public abstract record ArmExpression;

/// <summary>A string or integer literal.</summary>
public sealed record LiteralExpression(JsonNode? Value) : ArmExpression;

/// <summary>A function call such as <c>parameters('x')</c>.</summary>
public sealed record CallExpression(string Name, IReadOnlyList<ArmExpression> Arguments) : ArmExpression;

/// <summary>A property access: <c>target.name</c>.</summary>
public sealed record MemberExpression(ArmExpression Target, string Name) : ArmExpression;

/// <summary>An index access: <c>target[index]</c>.</summary>
public sealed record IndexExpression(ArmExpression Target, ArmExpression Index) : ArmExpression;
