using System.Text;
using Microsoft.AspNetCore.Http;
using ServerlessServe.Hosting.Functions;

namespace ServerlessServe.Hosting.Tests.Functions;

/// <summary>
/// The build's <c>functions.metadata</c> is the one route table both hosts serve: parsed as the Functions host reads
/// it, with its defaults (no methods: all; no route: the function's name), and matched as its routes match.
/// </summary>
public sealed class FunctionsMetadataTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ss-metadata-").FullName;

    [Fact]
    public void Parse_HttpTrigger_NameEntryPointMethodsAndRoute()
    {
        var functions = FunctionsMetadata.Parse(Encoding.UTF8.GetBytes("""
            [{"name":"Infer","scriptFile":"App.dll","entryPoint":"App.ModelFunctions.Infer","language":"dotnet-isolated",
              "bindings":[{"name":"request","direction":"In","type":"httpTrigger","authLevel":"Anonymous","methods":["post"],"route":"v2/models/{model}/infer"},
                          {"name":"$return","type":"http","direction":"Out"}]}]
            """));

        var function = Assert.Single(functions);
        Assert.Equal(("Infer", "App.dll", "App.ModelFunctions.Infer", "httpTrigger"), (function.Name, function.ScriptFile, function.EntryPoint, function.TriggerType));
        Assert.Equal(("request", "v2/models/{model}/infer"), (function.Http!.Parameter, function.Http.Route));
        Assert.Equal(["POST"], function.Http.Methods);
    }

    [Fact]
    public void Parse_NoMethodsNoRoute_AllMethodsOnTheFunctionName()
    {
        var function = Assert.Single(FunctionsMetadata.Parse(Encoding.UTF8.GetBytes("""
            [{"name":"Ping","scriptFile":"App.dll","entryPoint":"App.F.Ping","bindings":[{"name":"req","type":"httpTrigger"}]}]
            """)));

        Assert.Equal("Ping", function.Http!.Route);
        Assert.Equal(FunctionsMetadata.AllMethods, function.Http.Methods);
    }

    [Fact]
    public void Parse_NonHttpTrigger_KeptWithoutHttp()
    {
        var function = Assert.Single(FunctionsMetadata.Parse(Encoding.UTF8.GetBytes("""
            [{"name":"Tick","scriptFile":"App.dll","entryPoint":"App.F.Tick","bindings":[{"name":"timer","type":"timerTrigger","schedule":"0 * * * * *"}]}]
            """)));

        Assert.Equal("timerTrigger", function.TriggerType);
        Assert.Null(function.Http);
    }

    [Theory]
    [InlineData("""[{"name":"F","scriptFile":"App.dll","entryPoint":"App.F.F","bindings":[{"name":"x","type":"http","direction":"Out"}]}]""")]
    [InlineData("""[{"name":"F","entryPoint":"App.F.F","bindings":[{"name":"r","type":"httpTrigger"}]}]""")]
    public void Parse_NoTriggerOrNoScriptFile_Refused(string json) =>
        Assert.Throws<InvalidDataException>(() => FunctionsMetadata.Parse(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Load_NoMetadataFile_SaysToBuildTheApp()
    {
        var error = Assert.Throws<FileNotFoundException>(() => FunctionsMetadata.Load(_directory));

        Assert.Contains("build the app", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/v2/models/credit-risk/infer", "POST")]
    [InlineData("/api/v2/models/credit-risk", "GET")]
    [InlineData("/api/v2/models/credit-risk/versions/2/infer", "POST")]
    [InlineData("/api/v2/health/live", "GET")]
    [InlineData("/api/v2/models/a/b/c/d/e", "")]
    [InlineData("/api/nothing", "")]
    [InlineData("/v2/health/live", "")]
    public void RouteTable_AllowedMethods_FromTheAppsRoutesNotTheCatchAll(string path, string expected)
    {
        File.WriteAllText(Path.Combine(_directory, "host.json"), """{"version":"2.0","extensions":{"http":{"routePrefix":"api"}}}""");
        File.WriteAllText(Path.Combine(_directory, FunctionsMetadata.FileName), """
            [
              {"name":"Infer","scriptFile":"App.dll","entryPoint":"App.M.Infer","bindings":[{"name":"r","type":"httpTrigger","methods":["post"],"route":"v2/models/{model}/infer"}]},
              {"name":"InferVersion","scriptFile":"App.dll","entryPoint":"App.M.InferVersion","bindings":[{"name":"r","type":"httpTrigger","methods":["post"],"route":"v2/models/{model}/versions/{version}/infer"}]},
              {"name":"Metadata","scriptFile":"App.dll","entryPoint":"App.M.Metadata","bindings":[{"name":"r","type":"httpTrigger","methods":["get"],"route":"v2/models/{model}"}]},
              {"name":"Live","scriptFile":"App.dll","entryPoint":"App.H.Live","bindings":[{"name":"r","type":"httpTrigger","methods":["get"],"route":"v2/health/live"}]},
              {"name":"Unmatched","scriptFile":"App.dll","entryPoint":"App.F.Unmatched","bindings":[{"name":"r","type":"httpTrigger","route":"{*path}"}]}
            ]
            """);

        var table = FunctionRouteTable.Load(_directory);

        Assert.Equal(expected, string.Join(",", table.AllowedMethods(new PathString(path))));
    }

    [Theory]
    [InlineData("ServerlessServe.Gateway")]
    [InlineData("ServerlessServe.Inference")]
    [InlineData("ServerlessServe.Admin")]
    public void BuiltApps_EveryGetRoute_AlsoTakesHead(string app)
    {
        // RFC 9110 requires HEAD wherever GET is served, and both hosts route only the methods listed here: a GET trigger
        // without "head" answers probes 405.
        var functions = FunctionsMetadata.Load(Path.Combine(AppContext.BaseDirectory, "apps", app));

        var gets = functions.Where(f => f.Http?.Methods.Contains("GET") == true).ToList();
        Assert.NotEmpty(gets);
        Assert.All(gets, f => Assert.True(f.Http!.Methods.Contains("HEAD"), $"{f.Name} takes GET but not HEAD"));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
