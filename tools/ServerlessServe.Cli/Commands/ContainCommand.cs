using System.CommandLine;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Security;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl contain</c>: the containment in force (throttles, blocks, quarantines), set by security events or an
/// operator, in the shared containment table. Every gateway instance picks up a change within its refresh interval
/// (2 s by default).
/// </summary>
internal static class ContainCommand
{
    public static Command Build()
    {
        var contain = new Command("contain", "List, set and lift throttles, blocks, quarantines and revocations (shared by every gateway instance).");
        contain.Subcommands.Add(List());
        contain.Subcommands.Add(Block());
        contain.Subcommands.Add(Throttle());
        contain.Subcommands.Add(Quarantine());
        contain.Subcommands.Add(RevokeToken());
        contain.Subcommands.Add(RevokeCaller());
        contain.Subcommands.Add(RevokeSigner());
        contain.Subcommands.Add(Lift());
        return contain;
    }

    private static Command List()
    {
        var storage = new StorageOptionSet();
        var all = new Option<bool>("--all") { Description = "Also list entries that have expired but are still in the table." };
        var command = new Command("list", "List the containment in force.") { all };
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var store = storage.Store(parse);
            var now = DateTimeOffset.UtcNow;
            var entries = (await store.ListAsync(cancellationToken).ConfigureAwait(false))
                .Where(e => parse.GetValue(all) || e.InForce(now))
                .OrderBy(e => e.Kind).ThenBy(e => e.Subject, StringComparer.Ordinal)
                .ToList();
            if (Console.IsOutputRedirected)
            {
                // Written to a file or a pipe: wide enough that each entry stays on one line, pseudonyms whole.
                AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
            }

            var table = new Table().AddColumn("kind").AddColumn("subject").AddColumn("until").AddColumn("rate/min").AddColumn("reason").AddColumn("event");
            foreach (var entry in entries)
            {
                table.AddRow(
                    ContainmentStore.PartitionOf(entry.Kind),
                    Markup.Escape(entry.Subject),
                    entry.Until is { } until ? until.ToString("u", System.Globalization.CultureInfo.InvariantCulture) + (entry.InForce(now) ? string.Empty : " (expired)") : "until lifted",
                    entry.RequestsPerMinute?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                    Markup.Escape(entry.Reason),
                    Markup.Escape(entry.EventId ?? "-"));
            }

            AnsiConsole.Write(table);
            Console.Out.WriteLine($"contain list: {entries.Count} entr{(entries.Count == 1 ? "y" : "ies")} in {store.TableName}");
            return 0;
        });
        return command;
    }

    private static Command Block()
    {
        var storage = new StorageOptionSet();
        var caller = new CallerOptionSet();
        var duration = DurationOption();
        var command = new Command("block", "Refuse a caller (403, the same as any access refusal) on every instance.") { duration };
        storage.AddTo(command);
        caller.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
            await SetAsync(storage, parse, ContainmentKind.Block, caller.Pseudonym(parse, storage.IsRemote(parse)), parse.GetValue(duration), null, cancellationToken).ConfigureAwait(false));
        return command;
    }

    private static Command Throttle()
    {
        var storage = new StorageOptionSet();
        var caller = new CallerOptionSet();
        var duration = DurationOption();
        var rate = new Option<int>("--per-minute") { Description = "Requests a minute allowed on each instance (429 above it).", Required = true };
        rate.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--per-minute must be at least 1");
            }
        });
        var command = new Command("throttle", "Hold a caller to a request rate on every instance.") { duration, rate };
        storage.AddTo(command);
        caller.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
            await SetAsync(storage, parse, ContainmentKind.Throttle, caller.Pseudonym(parse, storage.IsRemote(parse)), parse.GetValue(duration), parse.GetValue(rate), cancellationToken).ConfigureAwait(false));
        return command;
    }

    private static Command Quarantine()
    {
        var storage = new StorageOptionSet();
        var model = new Argument<string>("model") { Description = "Model name." };
        var version = new Argument<string>("version") { Description = "The version to withdraw; the previous good one serves \"latest\"." };
        var duration = DurationOption();
        var command = new Command("quarantine", "Stop serving a model version on every instance.") { model, version, duration };
        storage.AddTo(command);
        command.Validators.Add(result =>
        {
            if (!ModelNames.IsValidName(result.GetValue(model) ?? "") || !ModelNames.IsValidVersion(result.GetValue(version) ?? ""))
            {
                result.AddError("not a model name and version as the store names them; a quarantine of one matches nothing");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
            await SetAsync(storage, parse, ContainmentKind.Quarantine, ContainmentEntry.ModelSubject(parse.GetValue(model)!, parse.GetValue(version)!), parse.GetValue(duration), null, cancellationToken).ConfigureAwait(false));
        return command;
    }

    private static Command RevokeToken()
    {
        var storage = new StorageOptionSet();
        var id = new Argument<string>("token-id") { Description = "The token's jti (or Entra ID's uti) claim." };
        var duration = new Option<TimeSpan>("--for")
        {
            Description = "How long to keep refusing it: at least the token's remaining lifetime. Default 1.01:02:00: the longest token lifetime the gateway accepts by default (25 h) and twice the largest clock skew.",
            DefaultValueFactory = _ => TokenLifetimes.RevocationFor(TokenLifetimes.DefaultMax),
        };
        CheckDuration(duration);
        var command = new Command("revoke-token", "Refuse one bearer token (401) on every instance.") { id, duration };
        storage.AddTo(command);
        command.Validators.Add(result =>
        {
            if (!ContainmentSubjects.IsTokenId((result.GetValue(id) ?? "").Trim()))
            {
                result.AddError("token-id must be 1 to 256 visible ASCII characters, none of \\ # ? ~ / (a token's jti or uti claim)");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
            await SetAsync(storage, parse, ContainmentKind.RevokeToken, parse.GetValue(id)!.Trim(), parse.GetValue(duration), null, cancellationToken).ConfigureAwait(false));
        return command;
    }

    private static Command RevokeCaller()
    {
        var storage = new StorageOptionSet();
        var caller = new CallerOptionSet();
        var duration = new Option<TimeSpan>("--for")
        {
            Description = "How long the revocation is kept: at least the longest token lifetime accepted. Default 1.01:02:00.",
            DefaultValueFactory = _ => TokenLifetimes.RevocationFor(TokenLifetimes.DefaultMax),
        };
        CheckDuration(duration);
        var command = new Command("revoke-caller", "Refuse (401) every token issued to a caller up to now, on every instance; tokens issued later are accepted.") { duration };
        storage.AddTo(command);
        caller.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
            await SetAsync(storage, parse, ContainmentKind.RevokeCaller, caller.Pseudonym(parse, storage.IsRemote(parse)), parse.GetValue(duration), null, cancellationToken).ConfigureAwait(false));
        return command;
    }

    private static Command RevokeSigner()
    {
        var storage = new StorageOptionSet();
        var keyId = new Argument<string>("key-id") { Description = "The model signing key's id: 32 hex digits, a manifest's signerKeyId (ssctl keys create lists the local ones)." };
        var command = new Command("revoke-signer", "Stop serving every model version a signing key signed, on every instance.") { keyId };
        storage.AddTo(command);
        command.Validators.Add(result =>
        {
            if (!KeyIds.IsWellFormed((result.GetValue(keyId) ?? "").Trim().ToLowerInvariant()))
            {
                result.AddError("key-id must be 32 hex digits (a manifest's signerKeyId); a revocation of anything else matches nothing");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
            await SetAsync(storage, parse, ContainmentKind.RevokeSigner, parse.GetValue(keyId)!.Trim().ToLowerInvariant(), null, null, cancellationToken).ConfigureAwait(false));
        return command;
    }

    private static Command Lift()
    {
        var storage = new StorageOptionSet();
        var kind = new Argument<string>("kind") { Description = "block, throttle, quarantine, revoked-token, revoked-caller or revoked-signer." };
        kind.AcceptOnlyFromAmong("block", "throttle", "quarantine", "revoked-token", "revoked-caller", "revoked-signer");
        var subject = new Argument<string[]>("subject")
        {
            Description = "For block, throttle and revoked-caller: the caller's pseudonym (as in the security event). For quarantine: MODEL VERSION. For revoked-token: the token id; for revoked-signer: the key id.",
            Arity = new ArgumentArity(1, 2),
        };
        var command = new Command("lift", "Lift a block, throttle, quarantine or revocation on every instance.") { kind, subject };
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var which = parse.GetValue(kind) switch
            {
                "block" => ContainmentKind.Block,
                "throttle" => ContainmentKind.Throttle,
                "revoked-token" => ContainmentKind.RevokeToken,
                "revoked-caller" => ContainmentKind.RevokeCaller,
                "revoked-signer" => ContainmentKind.RevokeSigner,
                _ => ContainmentKind.Quarantine,
            };
            var parts = parse.GetValue(subject)!;
            if ((which == ContainmentKind.Quarantine) != (parts.Length == 2))
            {
                await Console.Error.WriteLineAsync(which == ContainmentKind.Quarantine
                    ? "ssctl: contain lift quarantine needs MODEL VERSION"
                    : "ssctl: contain lift needs one subject (a pseudonym, token id or key id)").ConfigureAwait(false);
                return 2;
            }

            // Set as revoke-signer stores it (trimmed, lower case), so that the id as typed there lifts it here.
            var target = parts.Length == 2 ? ContainmentEntry.ModelSubject(parts[0], parts[1])
                : which == ContainmentKind.RevokeSigner ? parts[0].Trim().ToLowerInvariant() : parts[0].Trim();
            var lifted = await storage.Store(parse).LiftAsync(which, target, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine(lifted
                ? $"contain lift: lifted {ContainmentStore.PartitionOf(which)} on {target}"
                : $"contain lift: no {ContainmentStore.PartitionOf(which)} on {target}");
            return lifted ? 0 : 1;
        });
        return command;
    }

    private static async Task<int> SetAsync(StorageOptionSet storage, ParseResult parse, ContainmentKind kind, string subject, TimeSpan? duration, int? rate, CancellationToken cancellationToken)
    {
        var entry = await new OperatorContainment(storage.Store(parse), TimeProvider.System).SetAsync(kind, subject, duration, rate, null, cancellationToken).ConfigureAwait(false);
        Console.Out.WriteLine($"contain {ContainmentStore.PartitionOf(kind)}: {subject} {(entry.Until is { } until ? "until " + until.ToString("u", System.Globalization.CultureInfo.InvariantCulture) : "until lifted")}");
        return 0;
    }

    private static Option<TimeSpan?> DurationOption()
    {
        var option = new Option<TimeSpan?>("--for") { Description = "How long, from 1 second to 365 days, e.g. 01:00:00. Default: until lifted." };
        CheckDuration(option);
        return option;
    }

    // A duration of zero or less would end before it began while replacing (and so lifting) what is in force.
    private static void CheckDuration<T>(Option<T> option) => option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<T>() is TimeSpan duration && !ContainmentSubjects.IsDuration(duration))
        {
            result.AddError("--for must be between 1 second and 365 days (00:00:01 to 365.00:00:00)");
        }
    });

    /// <summary>Where the table is.</summary>
    private sealed class StorageOptionSet
    {
        private readonly TableOptionSet _table = new("Containment table.", new ContainmentOptions().Table);

        public void AddTo(Command command) => _table.AddTo(command);

        public ContainmentStore Store(ParseResult parse) => new(_table.Table(parse));

        public bool IsRemote(ParseResult parse) => _table.IsRemote(parse);
    }
}
