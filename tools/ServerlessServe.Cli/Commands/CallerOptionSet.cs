using System.CommandLine;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Cli.Commands;

/// <summary>The caller: a pseudonym (as security events and audit records name it), or a token subject pseudonymised with the local stack's key.</summary>
internal sealed class CallerOptionSet
{
    private readonly Option<string?> _pseudonym = new("--pseudonym") { Description = "The caller's pseudonym, as security events and audit records name it." };
    private readonly Option<string?> _subject = new("--subject") { Description = "The caller's token subject; pseudonymised with the audit pseudonym key in --state (local stack)." };
    private readonly Option<DirectoryInfo?> _state = CommonOptions.State();

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(_pseudonym);
        command.Options.Add(_subject);
        command.Options.Add(_state);
        command.Validators.Add(result =>
        {
            if ((result.GetValue(_pseudonym) is null) == (result.GetValue(_subject) is null))
            {
                result.AddError("give exactly one of --pseudonym and --subject");
            }
            else if (result.GetValue(_pseudonym) is { } pseudonym && !ContainmentSubjects.IsPseudonym(pseudonym.Trim()))
            {
                result.AddError("--pseudonym must be 32 lower-case hex digits, as security events and audit records name the caller; anything else matches no caller");
            }
        });
    }

    /// <summary>
    /// The caller's pseudonym. <paramref name="remoteTable"/>: the table is in Azure, whose pseudonym key is not the
    /// local stack's, so a subject cannot be turned into the pseudonym the deployment uses.
    /// </summary>
    public string Pseudonym(ParseResult parse, bool remoteTable)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (parse.GetValue(_pseudonym) is { } pseudonym)
        {
            return pseudonym.Trim();
        }

        if (remoteTable)
        {
            throw new CliUsageException("--subject is pseudonymised with the local stack's key, not the deployment's: with --table-uri give --pseudonym, as the audit records and security events name the caller");
        }

        var state = CommonOptions.ResolveState(parse.GetValue(_state));
        var key = Convert.FromBase64String(File.ReadAllText(state.AuditPseudonymKey).Trim());
        return new CallerPseudonymizer(key).Pseudonymize(parse.GetValue(_subject));
    }
}
