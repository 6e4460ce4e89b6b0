using System.CommandLine;
using System.Security.Cryptography;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl sign</c>: the headers that sign one request for a model whose policy requires signatures —
/// <c>Content-Digest</c>, <c>Signature-Input</c> and <c>Signature</c>, one <c>Name: value</c> line each on standard
/// output (nothing else), ready for <c>curl -H @file</c>. The signature covers the method, the full URL, the body's
/// digest and <c>Authorization: Bearer TOKEN</c>, so the request must be sent with exactly these, within the model's
/// window (5 minutes by default), once. With no <c>--token</c> (nor <c>$SERVERLESSSERVE_TOKEN</c>) the token is minted
/// by the local stack's issuer and printed first as an <c>Authorization</c> line: the signature covers it.
/// </summary>
internal static class SignCommand
{
    public static Command Build()
    {
        var keyFile = new Option<FileInfo>("--key") { Description = "The caller's private request-signing key (PEM, P-256; `ssctl keys create-request-key`).", Required = true };
        var keyId = new Option<string>("--key-id") { Description = "The key id it is registered under.", Required = true };
        var url = new Option<Uri>("--url")
        {
            Description = "The full URL the request is sent to, e.g. http://127.0.0.1:7071/api/v2/models/m/infer.",
            Required = true,
            CustomParser = result => CommonOptions.AbsoluteUri(result)!,
        };
        var method = new Option<string>("--method") { Description = "HTTP method.", DefaultValueFactory = _ => "POST" };
        var body = new Option<FileInfo?>("--body") { Description = "File holding the exact request body. Default: an empty body." };
        var token = CommonOptions.Token();
        var state = CommonOptions.State();
        var command = new Command("sign", "Print the RFC 9421 signature headers for one request.") { keyFile, keyId, url, method, body, token, state };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(url)!;
            string bearer;
            try
            {
                bearer = CommonOptions.ResolveToken(parse.GetValue(token), target, parse.GetValue(state));
            }
            catch (Jobs.JobInputException ex)
            {
                await Console.Error.WriteLineAsync("ssctl: " + ex.Message).ConfigureAwait(false);
                return 2;
            }

            using var key = ECDsa.Create();
            key.ImportFromPem(await File.ReadAllTextAsync(parse.GetValue(keyFile)!.FullName, cancellationToken).ConfigureAwait(false));
            var bytes = parse.GetValue(body) is { } file ? await File.ReadAllBytesAsync(file.FullName, cancellationToken).ConfigureAwait(false) : [];
            var headers = RequestSigner.Sign(key, parse.GetValue(keyId)!, parse.GetValue(method)!, target.AbsoluteUri, bytes, "Bearer " + bearer, DateTimeOffset.UtcNow);
            if (string.IsNullOrWhiteSpace(parse.GetValue(token)) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(CommonOptions.TokenVariable)))
            {
                // A token minted here (the local stack's issuer): the signature covers it, so the request must carry it,
                // and the caller could not know it otherwise.
                Console.Out.WriteLine($"Authorization: Bearer {bearer}");
            }

            Console.Out.WriteLine($"{ContentDigest.HeaderName}: {headers.ContentDigest}");
            Console.Out.WriteLine($"{SignatureHeaders.SignatureInputHeader}: {headers.SignatureInput}");
            Console.Out.WriteLine($"{SignatureHeaders.SignatureHeader}: {headers.Signature}");
            return 0;
        });
        return command;
    }
}
