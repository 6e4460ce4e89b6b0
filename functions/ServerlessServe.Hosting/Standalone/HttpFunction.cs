using System.Reflection;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>An HTTP-triggered function as the Functions host would see it: name, methods, route and the method to call.</summary>
internal sealed record HttpFunction(string Name, IReadOnlyList<string> Methods, string Route, MethodInfo Method);
