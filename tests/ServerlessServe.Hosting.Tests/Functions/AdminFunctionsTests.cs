using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using ServerlessServe.Admin;
using ServerlessServe.Hosting.Standalone;

namespace ServerlessServe.Hosting.Tests.Functions;

/// <summary>
/// The admin app's route table is one table under both hosts: the build's functions.metadata lists exactly the
/// <c>[Function]</c> methods of the assembly, the standalone host maps exactly those routes and methods, and none starts
/// with <c>admin</c> or <c>runtime</c> (the Functions host keeps those for itself and would not index them).
/// </summary>
public sealed class AdminFunctionsTests
{
    private static readonly string AdminDirectory = Path.Combine(AppContext.BaseDirectory, "apps", "ServerlessServe.Admin");

    [Fact]
    public void Metadata_IsExactlyTheAssemblysFunctions()
    {
        var declared = typeof(AdminApp).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
            .OfType<string>()
            .Order(StringComparer.Ordinal);

        Assert.Equal(declared, Metadata().Select(f => f.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Standalone_MapsExactlyTheMetadatasRoutesAndMethods()
    {
        await using var app = StandaloneHost.Build(typeof(AdminApp).Assembly, [], AdminApp.Configure, appDirectory: AdminDirectory);

        var mapped = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => (Route: e.RoutePattern.RawText!, Methods: string.Join(",", e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Order(StringComparer.Ordinal))))
            .Order()
            .ToList();

        Assert.Equal(Metadata().Select(f => ("/api/" + f.Route, string.Join(",", f.Methods.Order(StringComparer.Ordinal)))).Order().ToList(), mapped);
    }

    [Fact]
    public void Routes_UnderManage_NoneReservedByTheHost()
    {
        var routes = Metadata().Where(f => f.Name != "Unmatched").Select(f => f.Route).ToList();

        Assert.NotEmpty(routes);
        Assert.All(routes, r => Assert.StartsWith("manage/", r, StringComparison.Ordinal));
        Assert.DoesNotContain(Metadata(), f => f.Route.StartsWith("admin", StringComparison.OrdinalIgnoreCase) || f.Route.StartsWith("runtime", StringComparison.OrdinalIgnoreCase));
    }

    private static List<(string Name, string Route, string[] Methods)> Metadata()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AdminDirectory, "functions.metadata")));
        return document.RootElement.EnumerateArray()
            .Select(f => (f, Trigger: f.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "httpTrigger")))
            .Select(p => (
                p.f.GetProperty("name").GetString()!,
                p.Trigger.GetProperty("route").GetString()!,
                p.Trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).ToArray()))
            .ToList();
    }
}
