using Xunit.Abstractions;
using Xunit.Sdk;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>
/// Runs a class's tests in the order of their method names (then of their display names, for a theory's cases), for a
/// class whose tests share something costly to start when they run one after the other. Every such test still works in
/// any order: the order saves time, it decides no outcome.
/// </summary>
public sealed class ByNameOrderer : ITestCaseOrderer
{
    public const string TypeName = "ServerlessServe.Integration.Tests.Fixtures.ByNameOrderer";

#if FUNCTIONS_HOST_LANE
    public const string AssemblyName = "ServerlessServe.Integration.FunctionsHost.Tests";
#else
    public const string AssemblyName = "ServerlessServe.Integration.Tests";
#endif

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases)
        where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.Name, StringComparer.Ordinal).ThenBy(t => t.DisplayName, StringComparer.Ordinal);
}
