using ServerlessServe.Local;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>What `ssctl up` prints once the stack serves: where, how to call it, how to stop.</summary>
internal static class Banner
{
    public static void Print(LocalStack stack, LocalState state, string token, TimeSpan startup, SmokeCheck.Result first, IReadOnlyList<string> models)
    {
        var baseUrl = stack.GatewayBaseUrl.ToString().TrimEnd('/');
        AnsiConsole.MarkupLine(first.Ok
            ? $"[green]ServerlessServe is up[/] in {startup.TotalSeconds:F1} s; first request served in {first.Elapsed.TotalMilliseconds:F0} ms."
            : $"[red]The stack started but the first request failed ({(first.Status == 0 ? Markup.Escape(first.Body) : first.Status.ToString(System.Globalization.CultureInfo.InvariantCulture))}).[/] Logs: {Markup.Escape(state.LogsDirectory)}");
        var table = new Table().AddColumn("").AddColumn("");
        table.AddRow("Host", stack.Host == AppHost.Functions
            ? "Azure Functions host [grey](" + Markup.Escape(stack.FunctionsHost!.Directory) + ")[/]"
            : "standalone [grey](each app on Kestrel; --host functions for the real Functions host)[/]");
        table.AddRow("Gateway (V2 base URL)", Markup.Escape(baseUrl));
        table.AddRow("Inference app", Markup.Escape(stack.InferenceBaseUrl.ToString().TrimEnd('/')) + " [grey](the gateway's managed identity only)[/]");
        table.AddRow("Admin plane", Markup.Escape(stack.AdminBaseUrl.ToString().TrimEnd('/')) + "/manage [grey](admin tokens only: ssctl token --admin)[/]");
        table.AddRow("Token issuer (OIDC)", Markup.Escape(stack.Issuer.Issuer) + " [grey](discovery document and key set; ssctl token mints)[/]");
        table.AddRow("Storage (Azurite)", $"blob 127.0.0.1:{stack.Azurite.BlobPort}" + (stack.Azurite.Persistence == AzuritePersistence.Memory ? " (in memory: gone when it stops)" : ""));
        table.AddRow("Models", Markup.Escape(string.Join(", ", models)));
        table.AddRow("State and logs", Markup.Escape(state.Directory));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[bold]Try it[/] (a token valid 8 hours; mint more with [blue]ssctl token[/]):");
        Console.Out.WriteLine($"export TOKEN={token}");
        Console.Out.WriteLine(
            $"curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{SmokeCheck.SampleBody}' {baseUrl}/v2/models/customer-notes/infer");
        AnsiConsole.MarkupLine("[grey]Response of that request:[/]");
        Console.Out.WriteLine(first.Body);
        AnsiConsole.MarkupLine("Press [bold]Ctrl-C[/] to stop everything.");
    }
}
