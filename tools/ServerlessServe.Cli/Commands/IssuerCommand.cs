using System.CommandLine;
using ServerlessServe.Local;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl issuer</c>: only the local token issuer (discovery document, key set and the gateway's managed identity
/// endpoint on loopback) until Ctrl-C, for apps run some other way (<c>func start</c> with local.settings.sample.json).
/// <c>ssctl up</c> runs it itself.
/// </summary>
internal static class IssuerCommand
{
    public static Command Build()
    {
        var stateOption = CommonOptions.State();
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1.", DefaultValueFactory = _ => LocalIssuer.DefaultPort };
        var command = new Command("issuer", "Serve the local token issuer's OIDC discovery document and key set on loopback (ssctl up does this too).") { stateOption, port };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var state = CommonOptions.ResolveState(parse.GetValue(stateOption));
            if (!FreePorts.IsFree(parse.GetValue(port)))
            {
                AnsiConsole.MarkupLine($"[red]Port {parse.GetValue(port)} is in use[/] (is `ssctl up` running? it serves the issuer too).");
                return 2;
            }

            state.EnsureKeys();
            await using var issuer = await LocalIssuer.StartAsync(state, parse.GetValue(port), cancellationToken).ConfigureAwait(false);
            AnsiConsole.MarkupLine($"Local token issuer at [blue]{Markup.Escape(issuer.Issuer)}[/] (discovery: {Markup.Escape(issuer.MetadataAddress.ToString())}).");
            AnsiConsole.MarkupLine($"Gateway settings: Authority [blue]{Markup.Escape(issuer.Issuer)}[/], Audiences:0 [blue]{LocalIssuer.Audience}[/], RequireHttpsMetadata [blue]false[/]. Mint tokens with [blue]ssctl token[/]; Ctrl-C stops.");
            AnsiConsole.MarkupLine($"Gateway identity: IDENTITY_ENDPOINT [blue]{Markup.Escape(issuer.ManagedIdentityEndpoint.AbsoluteUri)}[/], IDENTITY_HEADER the contents of [blue]{Markup.Escape(state.ManagedIdentitySecret)}[/] (the gateway only).");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C.
            }

            return 0;
        });
        return command;
    }
}
