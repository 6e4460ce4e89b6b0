using ServerlessServe.Cli.Commands;
using ServerlessServe.Onnx;

// Before anything loads ONNX Runtime (bench's raw target, eval): its telemetry stays off (docs/design.md).
OnnxRuntimeTelemetry.DisableBeforeLoad();

// Written to a file or a pipe, Spectre.Console would fold tables at 80 columns, one cell's text over several lines
// (bench's matrix has twelve columns). A file does not wrap, so tables get room unless COLUMNS says otherwise.
if (Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("COLUMNS")))
{
    Spectre.Console.AnsiConsole.Profile.Width = Math.Max(Spectre.Console.AnsiConsole.Profile.Width, 240);
}

// Children get up to 10 s each to stop gracefully after Ctrl-C (then are killed), so ssctl waits long enough for them
// all: ending sooner would leave the last ones (Azurite, on its ports) running.
var invocation = new System.CommandLine.InvocationConfiguration
{
    EnableDefaultExceptionHandler = false,
    ProcessTerminationTimeout = ServerlessServe.Local.LocalStack.MaxStopTime,
};

try
{
    return await Ssctl.Build().Parse(args).InvokeAsync(invocation).ConfigureAwait(false);
}
catch (Exception ex) when (CliErrors.Describe(ex) is { } message)
{
    Console.Error.WriteLine("ssctl: " + message);
    return 2;
}
