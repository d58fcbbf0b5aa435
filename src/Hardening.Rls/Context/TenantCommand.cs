using Npgsql;

namespace Hardening.Rls;

/// <summary>
/// A command for one <see cref="TenantSession"/>: its text and parameters, and nothing to execute it with. Run it with
/// the session's <c>ExecuteReaderAsync</c>, <c>ExecuteNonQueryAsync</c> or <c>ExecuteScalarAsync</c>, which send the
/// tenant context along. (A plain <see cref="NpgsqlCommand"/> run on the session's connection has no context and
/// sees no rows, which looks like an empty table; this type makes that mistake impossible.)
/// </summary>
public sealed class TenantCommand : IDisposable, IAsyncDisposable
{
    internal TenantCommand(TenantSession session, string commandText)
    {
        Session = session;
        Command = new NpgsqlCommand(commandText);
    }

    /// <summary>The SQL: one statement, with positional (<c>$1</c>) or named parameters.</summary>
    public string CommandText
    {
        get => Command.CommandText;
        set => Command.CommandText = value;
    }

    /// <summary>The parameters.</summary>
    public NpgsqlParameterCollection Parameters => Command.Parameters;

    /// <summary>Seconds before the command times out (default 30, as in Npgsql).</summary>
    public int CommandTimeout
    {
        get => Command.CommandTimeout;
        set => Command.CommandTimeout = value;
    }

    internal TenantSession Session { get; }

    internal NpgsqlCommand Command { get; }

    /// <summary>Releases the underlying command.</summary>
    public void Dispose() => Command.Dispose();

    /// <summary>Releases the underlying command.</summary>
    /// <returns>A task.</returns>
    public ValueTask DisposeAsync() => Command.DisposeAsync();
}
