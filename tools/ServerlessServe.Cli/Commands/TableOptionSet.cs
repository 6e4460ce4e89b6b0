using System.CommandLine;
using Azure.Data.Tables;
using Azure.Identity;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// Where a table is: <c>--connection-string</c> (default: the local Azurite), or <c>--table-uri</c> in Azure (signs in
/// with DefaultAzureCredential, no keys), and <c>--table</c> with its documented default.
/// </summary>
internal sealed class TableOptionSet(string description, string defaultTable)
{
    private readonly Option<string?> _connection = CommonOptions.ConnectionString();
    private readonly Option<Uri?> _tableUri = new("--table-uri")
    {
        CustomParser = CommonOptions.AbsoluteUri,
        Description = "Table service endpoint in Azure; signs in with DefaultAzureCredential (no keys).",
    };
    private readonly Option<string> _table = new("--table") { Description = description, DefaultValueFactory = _ => defaultTable };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(_connection);
        command.Options.Add(_tableUri);
        command.Options.Add(_table);
    }

    /// <summary>Whether the table is in Azure (<c>--table-uri</c>), not the local stack's.</summary>
    public bool IsRemote(ParseResult parse) => parse.GetValue(_tableUri) is not null;

    /// <summary>The table the options name.</summary>
    public TableClient Table(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var service = parse.GetValue(_tableUri) is { } uri
            ? new TableServiceClient(uri, new DefaultAzureCredential())
            : new TableServiceClient(parse.GetValue(_connection) ?? CommonOptions.DefaultConnectionString());
        return service.GetTableClient(parse.GetValue(_table)!);
    }
}
