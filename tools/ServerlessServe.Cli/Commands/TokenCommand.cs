using System.CommandLine;
using ServerlessServe.Local;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl token</c>: mints a caller token from the local issuer and prints it (nothing else on stdout). Its <c>iss</c>
/// is the URL the local issuer of <c>ssctl up</c> serves its discovery document from, its <c>kid</c> names a key of the
/// key set published there, so the gateway accepts it exactly as it accepts an Entra ID token.
/// </summary>
internal static class TokenCommand
{
    /// <summary>The caller that <c>ssctl token</c>, <c>ssctl up</c>'s banner and <c>ssctl job</c> mint for by default.</summary>
    public const string DefaultSubject = "local-developer";

    public static Command Build()
    {
        var stateOption = CommonOptions.State();
        var subject = new Option<string>("--sub") { Description = "Caller id (token subject).", DefaultValueFactory = _ => DefaultSubject };
        var roles = new Option<string[]>("--role") { Description = "App role to grant, as the roles claim (repeatable).", AllowMultipleArgumentsPerToken = false };
        var lifetime = new Option<TimeSpan>("--lifetime") { Description = "Token lifetime, e.g. 01:00:00 (at most 24 h).", DefaultValueFactory = _ => TimeSpan.FromHours(1) };
        var algorithm = new Option<string>("--alg")
        {
            Description = "Signing algorithm: ES256 (P-256) or RS256 (RSA 2048, as Entra ID signs).",
            DefaultValueFactory = _ => LocalIssuerKey.Es256,
        };
        algorithm.AcceptOnlyFromAmong(LocalIssuerKey.Es256, LocalIssuerKey.Rs256);
        var admin = new Option<bool>("--admin")
        {
            Description = $"An admin token: the admin app's audience ({LocalIssuer.AdminAudience}) and the role {LocalIssuer.AdminRole}. The gateway refuses it.",
        };
        var command = new Command("token", "Mint a caller token (or with --admin an admin token) from the local issuer.") { stateOption, subject, roles, lifetime, algorithm, admin };
        // On the option, so it judges only a value given (a command's validator reads an absent option as zero).
        lifetime.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<TimeSpan>() is var span && (span <= TimeSpan.Zero || span > TimeSpan.FromHours(24)))
            {
                result.AddError("--lifetime must be more than zero and at most 24:00:00 (the gateway refuses longer-lived tokens)");
            }
        });
        command.SetAction(parse =>
        {
            var state = CommonOptions.ResolveState(parse.GetValue(stateOption));
            if (!File.Exists(state.IssuerKey) || !File.Exists(state.IssuerRsaKey))
            {
                Console.Error.WriteLine("No local issuer keys; run `ssctl keys create` or `ssctl up` first.");
                return 2;
            }

            var granted = parse.GetValue(roles) ?? [];
            var token = parse.GetValue(admin)
                ? LocalIssuer.Mint(state, parse.GetValue(subject)!, granted.Append(LocalIssuer.AdminRole).Distinct(StringComparer.Ordinal), parse.GetValue(lifetime), parse.GetValue(algorithm)!, LocalIssuer.AdminAudience)
                : LocalIssuer.Mint(state, parse.GetValue(subject)!, granted, parse.GetValue(lifetime), parse.GetValue(algorithm)!);
            Console.Out.WriteLine(token);
            return 0;
        });
        return command;
    }
}
