using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using ServerlessServe.Core.Signatures;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl keys create-request-key | register-request-key | list-request-keys | revoke-request-key</c>: a caller's
/// request-signing key pair, and its binding to the caller in the gateway's key table (the admin plane's job in Azure;
/// these write the same table directly). Gateways pick a change up within their refresh interval (5 s); a newly
/// registered key works at once (an unknown key id makes the gateway read that one entry).
/// </summary>
internal static class RequestKeyCommands
{
    public static IEnumerable<Command> Build() => [Create(), Register(), List(), Revoke()];

    private static Command Create()
    {
        var output = new Option<FileInfo>("--out") { Description = "Private key file to write (PKCS#8 PEM, owner-only); the public key goes next to it as NAME.pub.pem.", Required = true };
        var command = new Command("create-request-key", "Create an ECDSA P-256 key pair for signing requests (RFC 9421, ecdsa-p256-sha256).") { output };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(output)!;
            var publicPath = PublicPath(file.FullName);
            if (file.Exists || File.Exists(publicPath))
            {
                Console.Error.WriteLine($"ssctl: {file.FullName} or {publicPath} exists; not overwritten");
                return 2;
            }

            // Both halves or neither, each written whole: a run cut off (or a full disk) between them left a private key
            // without its public half, or a partial one, and a rerun refused as the file "exists" (found in review
            // 2026-12-07).
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var wrotePrivate = false;
            try
            {
                Local.LocalState.WriteNewFile(file.FullName, key.ExportPkcs8PrivateKeyPem(), secret: true);
                wrotePrivate = true;
                Local.LocalState.WriteNewFile(publicPath, key.ExportSubjectPublicKeyInfoPem() + "\n", secret: false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                if (wrotePrivate)
                {
                    File.Delete(file.FullName);
                }

                Console.Error.WriteLine($"ssctl: the key pair could not be written ({ex.Message}); nothing was kept");
                return 1;
            }

            Console.Out.WriteLine($"create-request-key: private {file.FullName}, public {publicPath}");
            return 0;
        });
        return command;
    }

    private static Command Register()
    {
        var storage = new StorageOptionSet();
        var caller = new CallerOptionSet();
        var publicKey = new Option<FileInfo>("--public-key") { Description = "The caller's public key (PEM, SubjectPublicKeyInfo, P-256), or its private key file (only the public half is stored).", Required = true };
        var keyId = new Option<string>("--key-id") { Description = "The key id the caller signs with (keyid; 1-64 of A-Z a-z 0-9 . _ : -).", Required = true };
        // Read as UTC when no offset is given (as the admin plane reads it; the default parser took local time), and only
        // in the future: a past time would replace a working key with one already expired (found in review 2026-12-07).
        var expires = new Option<DateTimeOffset?>("--expires")
        {
            Description = "When the key stops being accepted (ISO 8601, UTC unless an offset is given; in the future). Default: until revoked.",
            CustomParser = result => DateTimeOffset.TryParse(result.Tokens.Single().Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                ? parsed
                : Fail(result, "--expires must be an ISO 8601 time"),
        };
        var command = new Command("register-request-key", "Bind a request-signing public key to a caller (every gateway instance).") { publicKey, keyId, expires };
        command.Validators.Add(result =>
        {
            if (result.GetValue(expires) is { } until && until <= DateTimeOffset.UtcNow)
            {
                result.AddError("--expires must be in the future: a key that has expired already would replace the one registered under its id");
            }
        });
        storage.AddTo(command);
        caller.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            byte[] spki;
            using (var key = ECDsa.Create())
            {
                try
                {
                    key.ImportFromPem(await File.ReadAllTextAsync(parse.GetValue(publicKey)!.FullName, cancellationToken).ConfigureAwait(false));
                    spki = key.ExportSubjectPublicKeyInfo();
                }
                catch (Exception ex) when (ex is ArgumentException or CryptographicException or IOException)
                {
                    await Console.Error.WriteLineAsync("ssctl: --public-key is not a readable ECDSA PEM key").ConfigureAwait(false);
                    return 2;
                }
            }

            var store = storage.Store(parse);
            await store.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var registered = await store.RegisterAsync(caller.Pseudonym(parse, storage.IsRemote(parse)), parse.GetValue(keyId)!, spki, parse.GetValue(expires), cancellationToken).ConfigureAwait(false);
                Console.Out.WriteLine($"register-request-key: {registered.KeyId} for caller {registered.CallerPseudonym} {(registered.Expires is { } until ? "until " + until.ToString("u", CultureInfo.InvariantCulture) : "until revoked")}");
                return 0;
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync("ssctl: " + ex.Message).ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }

    private static Command List()
    {
        var storage = new StorageOptionSet();
        var command = new Command("list-request-keys", "List the registered request-signing keys.");
        storage.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var store = storage.Store(parse);
            var now = DateTimeOffset.UtcNow;
            var keys = await store.ListAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var table = new Table().AddColumn("caller").AddColumn("key id").AddColumn("registered").AddColumn("expires").AddColumn("SPKI SHA-256");
            foreach (var key in keys.OrderBy(k => k.CallerPseudonym, StringComparer.Ordinal).ThenBy(k => k.KeyId, StringComparer.Ordinal))
            {
                table.AddRow(
                    key.CallerPseudonym,
                    Markup.Escape(key.KeyId),
                    key.Created.ToString("u", CultureInfo.InvariantCulture),
                    key.Expires is { } until ? until.ToString("u", CultureInfo.InvariantCulture) + (key.InForce(now) ? string.Empty : " (expired)") : "until revoked",
                    Convert.ToHexStringLower(SHA256.HashData(key.SubjectPublicKeyInfo))[..16]);
            }

            AnsiConsole.Write(table);
            Console.Out.WriteLine($"list-request-keys: {keys.Count} key(s) in {store.TableName}");
            return 0;
        });
        return command;
    }

    private static Command Revoke()
    {
        var storage = new StorageOptionSet();
        var caller = new CallerOptionSet();
        var keyId = new Option<string>("--key-id") { Description = "The key id to revoke.", Required = true };
        var command = new Command("revoke-request-key", "Remove a caller's request-signing key (every gateway within its refresh interval).") { keyId };
        storage.AddTo(command);
        caller.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var revoked = await storage.Store(parse).RevokeAsync(caller.Pseudonym(parse, storage.IsRemote(parse)), parse.GetValue(keyId)!, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine(revoked ? "revoke-request-key: revoked" : "revoke-request-key: no such key");
            return revoked ? 0 : 1;
        });
        return command;
    }

    private static string PublicPath(string privatePath) =>
        (privatePath.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) ? privatePath[..^4] : privatePath) + ".pub.pem";

    /// <summary>Where the table is.</summary>
    private sealed class StorageOptionSet
    {
        private readonly TableOptionSet _table = new("Request-key table.", new SignatureOptions().KeyTable);

        public void AddTo(Command command) => _table.AddTo(command);

        public RequestKeyStore Store(ParseResult parse) => new(_table.Table(parse));

        public bool IsRemote(ParseResult parse) => _table.IsRemote(parse);
    }

    private static DateTimeOffset? Fail(System.CommandLine.Parsing.ArgumentResult result, string message)
    {
        result.AddError(message);
        return null;
    }
}
