using ServerlessServe.Cli.Commands;

return await Ssctl.Build().Parse(args).InvokeAsync().ConfigureAwait(false);
