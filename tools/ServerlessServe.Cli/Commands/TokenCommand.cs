using System.CommandLine;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;

namespace ServerlessServe.Cli.Commands;

/// <summary><c>ssctl token</c>: mints a caller token from the local issuer and prints it (nothing else on stdout).</summary>
internal static class TokenCommand
{
    public const string DefaultAudience = "serverlessserve";
    public const string DefaultIssuer = "serverlessserve-local";

    /// <summary>The caller that <c>ssctl token</c>, <c>ssctl up</c>'s banner and <c>ssctl job</c> mint for by default.</summary>
    public const string DefaultSubject = "local-developer";

    public static Command Build()
    {
        var stateOption = CommonOptions.State();
        var subject = new Option<string>("--sub") { Description = "Caller id (token subject).", DefaultValueFactory = _ => DefaultSubject };
        var roles = new Option<string[]>("--role") { Description = "Role to grant (repeatable).", AllowMultipleArgumentsPerToken = false };
        var lifetime = new Option<TimeSpan>("--lifetime") { Description = "Token lifetime, e.g. 01:00:00 (at most 24 h).", DefaultValueFactory = _ => TimeSpan.FromHours(1) };
        var command = new Command("token", "Mint a caller token from the local issuer.") { stateOption, subject, roles, lifetime };
        command.SetAction(parse =>
        {
            var state = CommonOptions.ResolveState(parse.GetValue(stateOption));
            if (!File.Exists(state.IssuerKey))
            {
                Console.Error.WriteLine("No local issuer key; run `ssctl keys create` or `ssctl up` first.");
                return 2;
            }

            Console.Out.WriteLine(Mint(state.IssuerKey, parse.GetValue(subject)!, parse.GetValue(roles) ?? [], parse.GetValue(lifetime)));
            return 0;
        });
        return command;
    }

    public static string Mint(string issuerKeyPath, string subject, IEnumerable<string> roles, TimeSpan lifetime)
    {
        using var key = SigningKeys.ImportPem(File.ReadAllText(issuerKeyPath));
        return new TokenIssuer(key, DefaultIssuer, TimeProvider.System).Mint(subject, DefaultAudience, lifetime, roles);
    }
}
