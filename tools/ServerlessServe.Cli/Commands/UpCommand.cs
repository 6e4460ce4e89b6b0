using System.CommandLine;
using System.Diagnostics;
using ServerlessServe.Local;
using ServerlessServe.Local.Samples;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl up</c>: the local token issuer (OIDC discovery and key set), Azurite, local keys, the signed sample models
/// and both apps on loopback, until Ctrl-C.
/// </summary>
internal static class UpCommand
{
    public static Command Build()
    {
        var stateOption = CommonOptions.State();
        var gatewayPort = new Option<int>("--port") { Description = "Gateway port.", DefaultValueFactory = _ => 7071 };
        var inferencePort = new Option<int>("--inference-port") { Description = "Inference app port.", DefaultValueFactory = _ => 7072 };
        var adminPort = new Option<int>("--admin-port") { Description = "Admin app port (the admin plane, /api/manage/...).", DefaultValueFactory = _ => 7074 };
        var issuerPort = new Option<int>("--issuer-port") { Description = "Port of the local token issuer (OIDC discovery document and key set).", DefaultValueFactory = _ => LocalIssuer.DefaultPort };
        var blobPort = new Option<int>("--blob-port") { Description = "Azurite blob port (queue and table use the next two).", DefaultValueFactory = _ => 10000 };
        var noResnet = new Option<bool>("--skip-resnet") { Description = "Do not publish the 64 MB ResNet18 sample." };
        var azuriteInMemory = new Option<bool>("--azurite-in-memory")
        {
            Description = "Azurite keeps everything in memory instead of the state folder: writes cost it less CPU, and models, audit trail and jobs are gone when it stops (for benchmarks and throwaway stacks).",
        };
        var configuration = new Option<string>("--configuration", "-c") { Description = "Build configuration of the apps (Debug or Release).", DefaultValueFactory = _ => "Debug" };
        var host = new Option<AppHost>("--host")
        {
            Description = "Which host runs the apps: standalone (each app on Kestrel, the default) or functions (the real Azure Functions host, as `func start` and Azure run them).",
            DefaultValueFactory = _ => AppHost.Standalone,
        };
        var functionsHost = new Option<DirectoryInfo?>("--functions-host")
        {
            Description = $"The folder holding the Functions host's `run` script (with --host functions). Default: ${FunctionsHost.EnvironmentVariable}, else ../shared/tools/functions-host beside the repository.",
        };
        var noBuild = new Option<bool>("--no-build") { Description = "Start the apps as already built (-c) instead of building them first." };
        var exitWhenReady = new Option<bool>("--exit-when-ready") { Description = "Stop everything once the stack has served its first request (a smoke check)." };
        var command = new Command("up", "Run the whole platform locally: the local token issuer, Azurite, keys, signed sample models, inference app, gateway and admin app.")
        {
            stateOption, gatewayPort, inferencePort, adminPort, issuerPort, blobPort, noResnet, azuriteInMemory, configuration, host, functionsHost, noBuild, exitWhenReady,
        };
        command.SetAction(async (parse, commandCancellation) =>
        {
            // The terminal closing (SIGHUP) stops the stack as Ctrl-C does. With the children in sessions of their own
            // (a terminal run), the hang-up reaches ssctl alone: without this, ssctl ended and left them all running.
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(commandCancellation);
            using var hangUp = OperatingSystem.IsWindows() ? null : System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGHUP,
                context =>
                {
                    context.Cancel = true;
                    stopping.Cancel();
                });
            var cancellationToken = stopping.Token;
            var started = Stopwatch.StartNew();
            var root = CommonOptions.RepositoryRoot();
            var state = CommonOptions.ResolveState(parse.GetValue(stateOption));
            FunctionsHost? located = null;
            if (parse.GetValue(host) == AppHost.Functions)
            {
                located = FunctionsHost.Locate(root, parse.GetValue(functionsHost)?.FullName, out var reason);
                if (located is null)
                {
                    AnsiConsole.MarkupLine($"[red]Cannot run under the Functions host:[/] {Markup.Escape(reason)}");
                    return 2;
                }
            }

            var options = new LocalStackOptions
            {
                RepositoryRoot = root,
                State = state,
                GatewayPort = parse.GetValue(gatewayPort),
                InferencePort = parse.GetValue(inferencePort),
                AdminPort = parse.GetValue(adminPort),
                IssuerPort = parse.GetValue(issuerPort),
                BlobPort = parse.GetValue(blobPort),
                QueuePort = parse.GetValue(blobPort) + 1,
                TablePort = parse.GetValue(blobPort) + 2,
                AzuritePersistence = parse.GetValue(azuriteInMemory) ? AzuritePersistence.Memory : AzuritePersistence.Disk,
                BuildConfiguration = parse.GetValue(configuration)!,
                BuildApps = !parse.GetValue(noBuild),
                Host = parse.GetValue(host),
                FunctionsHost = located,
                // In a terminal, Ctrl-C reaches ssctl alone, which stops the apps before Azurite (docs/design.md, "Local state").
                OwnSessions = !Console.IsInputRedirected,
            };
            foreach (var port in new[] { options.GatewayPort, options.InferencePort, options.AdminPort, options.IssuerPort, options.BlobPort, options.QueuePort, options.TablePort })
            {
                if (!FreePorts.IsFree(port))
                {
                    AnsiConsole.MarkupLine($"[red]Port {port} is in use.[/] Stop what holds it, or pick other ports (--port, --inference-port, --admin-port, --issuer-port, --blob-port).");
                    return 2;
                }
            }

            LocalStack stack;
            IReadOnlyList<SamplePublisher.Result> samples = [];
            try
            {
                stack = await AnsiConsole.Status().StartAsync("starting", async ctx =>
                {
                    var progress = new Progress<string>(message => ctx.Status(Markup.Escape(message)));
                    var uploads = new Progress<(string Model, long Bytes, long Total)>(p =>
                        ctx.Status($"publishing {Markup.Escape(p.Model)}: {p.Bytes / 1048576.0:F1} / {p.Total / 1048576.0:F1} MiB"));
                    return await LocalStack.StartAsync(
                        options,
                        async (connectionString, ct) =>
                        {
                            ctx.Status("building, signing and publishing the sample models");
                            samples = await SamplePublisher.PublishAllAsync(state, connectionString, !parse.GetValue(noResnet), uploads, ct).ConfigureAwait(false);
                        },
                        progress,
                        cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                AnsiConsole.MarkupLine($"[red]Could not start a tool:[/] {Markup.Escape(ex.Message)}. `up` needs the .NET SDK and Node.js with npm on PATH.");
                return 1;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or FileNotFoundException)
            {
                AnsiConsole.MarkupLine($"[red]Could not start:[/] {Markup.Escape(ex.Message)}");
                return 1;
            }

            await using (stack.ConfigureAwait(false))
            {
                var token = stack.Issuer.Mint(TokenCommand.DefaultSubject, lifetime: TimeSpan.FromHours(8));
                var firstRequest = await SmokeCheck.InferAsync(stack.GatewayBaseUrl, token, cancellationToken).ConfigureAwait(false);
                Banner.Print(stack, state, token, started.Elapsed, firstRequest, samples.Select(s => s.Name).ToList());
                if (parse.GetValue(exitWhenReady))
                {
                    return firstRequest.Ok ? 0 : 1;
                }

                try
                {
                    await stack.WaitForAnyExitAsync(cancellationToken).ConfigureAwait(false);
                    AnsiConsole.MarkupLine($"[red]An app stopped unexpectedly.[/] Logs: {Markup.Escape(state.LogsDirectory)}");
                    return 1;
                }
                catch (OperationCanceledException)
                {
                    AnsiConsole.MarkupLine("[grey]Stopping gateway, inference app and Azurite…[/]");
                    return 0;
                }
            }
        });
        return command;
    }
}
