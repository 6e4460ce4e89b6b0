using System.Security.Cryptography;
using Azure;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Cli.Commands;

/// <summary>Turns the failures a user can cause (a missing file, a wrong connection string, storage down) into one line.</summary>
internal static class CliErrors
{
    public static string? Describe(Exception exception) => exception switch
    {
        FileNotFoundException e => $"file not found: {e.FileName ?? e.Message}",
        DirectoryNotFoundException e => $"folder not found: {e.Message}",
        UnauthorizedAccessException e => $"permission denied: {e.Message}",
        IOException e => e.Message,
        CryptographicException e => $"not a usable ECDSA P-256 key: {e.Message}",
        ArgumentException e when e.Message.Contains("PEM", StringComparison.OrdinalIgnoreCase) => $"not a usable key: {e.Message}",
        // A value the commands' own checks let through and the code behind them refuses (a key id, a port, a subject):
        // one line, never a stack trace.
        ArgumentException e => $"invalid value: {e.Message}",
        FormatException e => $"invalid value: {e.Message} (check the options' values and --connection-string)",
        RequestFailedException e => $"storage refused the request ({e.Status} {e.ErrorCode}); check the connection string, account and permissions",
        AggregateException { InnerExceptions: [RequestFailedException or HttpRequestException, ..] } => "storage unreachable; is Azurite running (ssctl up) or is --blob-uri right?",
        HttpRequestException e => $"network error: {e.Message}",
        Jobs.JobApiException e => e.Message,
        Jobs.JobInputException e => e.Message,
        RefusedException e => e.Message,
        PolicyException e => $"policy: {e.Message}",
        ModelVerificationException e => $"model verification failed: {e.Message}",
        ModelVersionExistsException e => e.Message,
        Azure.Identity.AuthenticationFailedException => "could not sign in to Azure (DefaultAzureCredential); run `az login` or use --connection-string locally",
        CliUsageException e => e.Message,
        OperationCanceledException => "cancelled",
        _ => null,
    };
}

/// <summary>A usage error found while the command runs: its message is the whole report (exit 2).</summary>
internal sealed class CliUsageException(string message) : Exception(message);
