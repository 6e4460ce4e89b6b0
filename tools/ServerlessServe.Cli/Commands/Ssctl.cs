using System.CommandLine;

namespace ServerlessServe.Cli.Commands;

/// <summary>The <c>ssctl</c> command tree.</summary>
internal static class Ssctl
{
    public static RootCommand Build()
    {
        var root = new RootCommand("ssctl — keys, signed models, tokens, jobs, audit verification, the local stack and offline evaluation of ServerlessServe.");
        root.Subcommands.Add(KeysCommand.Build());
        root.Subcommands.Add(TokenCommand.Build());
        root.Subcommands.Add(SignCommand.Build());
        root.Subcommands.Add(IssuerCommand.Build());
        root.Subcommands.Add(ModelCommand.Build());
        root.Subcommands.Add(AuditCommand.Build());
        root.Subcommands.Add(ReceiptCommand.Build());
        root.Subcommands.Add(ContainCommand.Build());
        root.Subcommands.Add(UpCommand.Build());
        root.Subcommands.Add(BenchCommand.Build());
        root.Subcommands.Add(JobCommand.Build());
        root.Subcommands.Add(EvalCommand.Build());
        root.Subcommands.Add(FuzzCommand.Build());
        return root;
    }
}
