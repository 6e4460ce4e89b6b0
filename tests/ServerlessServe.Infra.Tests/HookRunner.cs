using System.Diagnostics;
using ServerlessServe.Infra.Tests.Bicep;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// Runs an infra/hooks script with the real shell, with stand-ins on PATH for the tools that would reach Azure or the
/// Internet from here: `azd env` over a key=value file, `az` answering by its first argument, `curl` answering by a
/// fragment of the URL it is given. Every az and curl call is logged, so a test sees what the hook asked.
/// </summary>
internal sealed class HookRunner : IDisposable
{
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("ss-hook-").FullName;

    public Dictionary<string, string> AzdEnv { get; } = new(StringComparer.Ordinal);

    /// <summary>az's output for calls whose first argument is the key (what `--query ... -o tsv` would print).</summary>
    public Dictionary<string, string> Az { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Another body for the `az` stand-in, after the line that logs the call: it finds the answers of <see cref="Az"/>
    /// as files <c>$ANSWERS/az-&lt;key&gt;</c>. Null: answer by the first argument.
    /// </summary>
    public string? AzScript { get; set; }

    /// <summary>curl's output for calls whose URL contains the key; no match: curl fails (exit 22).</summary>
    public Dictionary<string, string> Curl { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public string Directory => _dir;

    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);

    public sealed record Result(int ExitCode, string Output, string Errors, Dictionary<string, string> Env, List<string> AzCalls, List<string> CurlCalls);

    public async Task<Result> RunAsync(string script, params string[] arguments)
    {
        var bin = System.IO.Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        var answers = System.IO.Directory.CreateDirectory(Path.Combine(_dir, "answers")).FullName;
        var envFile = Path.Combine(_dir, "azd.env");
        var azLog = Path.Combine(_dir, "az.log");
        var curlLog = Path.Combine(_dir, "curl.log");
        await File.WriteAllLinesAsync(envFile, AzdEnv.Select(kv => $"{kv.Key}={kv.Value}"));
        File.Delete(azLog);
        File.Delete(curlLog);
        foreach (var (command, answer) in Az)
        {
            await File.WriteAllTextAsync(Path.Combine(answers, $"az-{command}"), answer.Length == 0 ? string.Empty : answer + "\n");
        }

        var curlCases = new List<string>();
        var i = 0;
        foreach (var (fragment, answer) in Curl)
        {
            var file = Path.Combine(answers, $"curl-{i++}");
            await File.WriteAllTextAsync(file, answer);
            curlCases.Add($"  *'{fragment}'*) cat '{file}'; exit 0 ;;");
        }

        await WriteScriptAsync(Path.Combine(bin, "azd"), $$"""
            #!/bin/sh
            f='{{envFile}}'
            case "$1 $2" in
              "env get-value") v=$(grep "^$3=" "$f" | head -n 1); [ -n "$v" ] || exit 1; printf '%s\n' "${v#*=}" ;;
              "env set") grep -v "^$3=" "$f" > "$f.tmp" || true; mv "$f.tmp" "$f"; printf '%s=%s\n' "$3" "$4" >> "$f" ;;
              *) echo "azd stand-in: unexpected $*" >&2; exit 2 ;;
            esac
            """);
        await WriteScriptAsync(Path.Combine(bin, "az"), $$"""
            #!/bin/sh
            printf '%s\n' "$*" >> '{{azLog}}'
            ANSWERS='{{answers}}'
            {{AzScript ?? "cat \"$ANSWERS/az-$1\""}}
            """);
        await WriteScriptAsync(Path.Combine(bin, "curl"), $$"""
            #!/bin/sh
            printf '%s\n' "$*" >> '{{curlLog}}'
            for url in "$@"; do :; done
            case "$url" in
            {{string.Join('\n', curlCases)}}
            esac
            exit 22
            """);

        var start = new ProcessStartInfo("sh", [BicepCli.InfraPath(Path.Combine("hooks", script)), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        start.Environment["PATH"] = $"{bin}:{System.Environment.GetEnvironmentVariable("PATH")}";
        start.Environment.Remove("AZURE_ENV_NAME");
        start.Environment.Remove("AZURE_LOCATION");
        foreach (var (key, value) in Environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        var env = (await File.ReadAllLinesAsync(envFile)).Where(l => l.Contains('=', StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..], StringComparer.Ordinal);
        return new Result(process.ExitCode, await output, await errors, env, await LinesAsync(azLog), await LinesAsync(curlLog));
    }

    private static async Task<List<string>> LinesAsync(string path) => File.Exists(path) ? (await File.ReadAllLinesAsync(path)).ToList() : [];

    private static async Task WriteScriptAsync(string path, string text)
    {
        await File.WriteAllTextAsync(path, text.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
