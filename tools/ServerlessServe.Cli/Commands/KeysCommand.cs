using System.CommandLine;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Local;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl keys create</c>: the local issuer, model-signing and audit keys, and the secret of the gateway's local managed
/// identity endpoint; and callers' request-signing keys (<see cref="RequestKeyCommands"/>).
/// </summary>
internal static class KeysCommand
{
    public static Command Build()
    {
        var keys = new Command("keys", "Manage local keys.");
        var create = new Command("create", "Create every missing local key (existing keys are kept).");
        var stateOption = CommonOptions.State();
        create.Options.Add(stateOption);
        create.SetAction(parse =>
        {
            var state = CommonOptions.ResolveState(parse.GetValue(stateOption));
            var created = state.EnsureKeys();
            var table = new Table().AddColumn("key").AddColumn("key id").AddColumn("file");
            foreach (var (name, path) in new[] { ("caller token issuer (ES256)", state.IssuerKey), ("caller token issuer (RS256)", state.IssuerRsaKey) })
            {
                using var key = LocalIssuerKey.Load(path);
                table.AddRow(name, key.KeyId, Markup.Escape(path));
            }

            foreach (var (name, path) in new[]
                     {
                         ("model signing", state.ModelSigningKey), ("audit checkpoints", state.AuditCheckpointKey),
                         ("audit witness", state.AuditWitnessKey),
                     })
            {
                using var key = SigningKeys.ImportPem(File.ReadAllText(path));
                table.AddRow(name, KeyIds.Compute(key), Markup.Escape(path));
            }

            table.AddRow("audit pseudonym HMAC", "(secret)", Markup.Escape(state.AuditPseudonymKey));
            table.AddRow("gateway managed identity (IDENTITY_HEADER)", "(secret)", Markup.Escape(state.ManagedIdentitySecret));
            AnsiConsole.Write(table);
            if (created.Count == 0)
            {
                AnsiConsole.MarkupLine("[grey]All keys already existed.[/]");
            }

            foreach (var line in created)
            {
                AnsiConsole.MarkupLine("[green]Created[/] " + Markup.Escape(line));
            }
            return 0;
        });
        keys.Subcommands.Add(create);
        foreach (var command in RequestKeyCommands.Build())
        {
            keys.Subcommands.Add(command);
        }

        return keys;
    }
}
