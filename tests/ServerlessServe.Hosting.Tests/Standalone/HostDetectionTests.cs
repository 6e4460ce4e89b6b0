using ServerlessServe.Hosting.Standalone;

namespace ServerlessServe.Hosting.Tests.Standalone;

/// <summary>Which host started the process is read from whole options only (found in review: any argument starting with "--host" counted).</summary>
public sealed class HostDetectionTests
{
    [Theory]
    [InlineData(new[] { "--host", "127.0.0.1", "--port", "4711", "--functions-uri", "http://127.0.0.1:4711/" }, false)]
    [InlineData(new[] { "--functions-uri=http://127.0.0.1:4711/" }, false)]
    [InlineData(new[] { "--host=127.0.0.1" }, false)]
    [InlineData(new[] { "--hostBuilder:reloadConfigOnChange=false" }, true)]
    [InlineData(new[] { "--hosting-note", "x" }, true)]
    [InlineData(new string[0], true)]
    public void IsStandalone_WholeFunctionsHostOptionsOnly(string[] args, bool standalone)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("Functions__Worker__HostEndpoint")))
        {
            return;
        }

        Assert.Equal(standalone, StandaloneHost.IsStandalone(args));
    }
}
