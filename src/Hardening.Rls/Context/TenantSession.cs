using System.Data;
using Npgsql;

namespace Hardening.Rls;

/// <summary>
/// One tenant's use of a pooled connection. Outside a transaction every command carries the context in its own
/// round trip (context statement + command in one batch, one implicit transaction). Inside a transaction begun with
/// <see cref="BeginTransactionAsync"/> the context travels with the first command and lasts until commit or
/// rollback (end it with <see cref="CommitAsync"/> or <see cref="RollbackAsync"/>). Not thread-safe, like
/// <see cref="NpgsqlConnection"/>.
/// </summary>
public sealed class TenantSession : IAsyncDisposable
{
    private readonly TenantDataSource _source;
    private readonly ContextValues _values;
    private NpgsqlTransaction? _transaction;
    private bool _contextInTransaction;

    internal TenantSession(NpgsqlConnection connection, TenantDataSource source, ContextValues values)
    {
        Connection = connection;
        _source = source;
        _values = values;
    }

    /// <summary>
    /// The underlying connection. Commands you run on it directly (Dapper, EF Core) carry no tenant context and see
    /// no tenant rows, unless you begin a transaction and call <see cref="ApplyContextAsync"/> first.
    /// </summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>
    /// The transaction begun by <see cref="BeginTransactionAsync"/>, or null when none is open; pass it to libraries
    /// that need it, but end it with <see cref="CommitAsync"/> or <see cref="RollbackAsync"/> so the session knows.
    /// </summary>
    public NpgsqlTransaction? Transaction => _transaction;

    /// <summary>The tenant id this session runs for.</summary>
    public string TenantId => _values.Tenant;

    /// <summary>
    /// Creates a command for this session. It can only be run with this session's Execute methods, which send the
    /// tenant context along; it has no Execute methods of its own, so it cannot run without the context by mistake.
    /// </summary>
    /// <param name="commandText">One SQL statement; use positional (<c>$1</c>) or named parameters.</param>
    /// <returns>The command.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="commandText"/> is null.</exception>
    public TenantCommand CreateCommand(string commandText)
    {
        ArgumentNullException.ThrowIfNull(commandText);
        return new TenantCommand(this, commandText);
    }

    /// <summary>Begins a transaction; the context is sent with its first command and ends with it.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A task (no round trip: Npgsql sends BEGIN with the next command).</returns>
    /// <exception cref="InvalidOperationException">A transaction is already open.</exception>
    public async ValueTask BeginTransactionAsync(CancellationToken cancellationToken = default)
    {
        if (_transaction is not null)
        {
            throw new InvalidOperationException("This tenant session already has an open transaction; commit or roll it back first.");
        }

        _transaction = await Connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        _contextInTransaction = false;
    }

    /// <summary>Commits the open transaction; the context ends with it.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidOperationException">No transaction is open.</exception>
    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        var tx = _transaction ?? throw new InvalidOperationException("There is no open transaction to commit; call BeginTransactionAsync first.");
        _transaction = null;
        _contextInTransaction = false;
        await using (tx.ConfigureAwait(false))
        {
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Rolls back the open transaction; the context ends with it.</summary>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidOperationException">No transaction is open.</exception>
    public async Task RollbackAsync(CancellationToken cancellationToken = default)
    {
        var tx = _transaction ?? throw new InvalidOperationException("There is no open transaction to roll back; call BeginTransactionAsync first.");
        _transaction = null;
        _contextInTransaction = false;
        await using (tx.ConfigureAwait(false))
        {
            await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends the context on its own (one round trip) inside the open transaction, so commands run directly on
    /// <see cref="Connection"/> by other libraries see the tenant's rows until the transaction ends.
    /// </summary>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidOperationException">No transaction is open (the context would end with the statement).</exception>
    public async Task ApplyContextAsync(CancellationToken cancellationToken = default)
    {
        var tx = Transaction ?? throw new InvalidOperationException("ApplyContextAsync needs an open transaction (call BeginTransactionAsync first); outside one the context would end with the statement.");
        if (_contextInTransaction)
        {
            return;
        }

        var batch = new NpgsqlBatch(Connection, tx) { BatchCommands = { _source.CreateContextCommand(_values) } };
        await using var batchDisposal = batch.ConfigureAwait(false);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        _contextInTransaction = true;
    }

    /// <summary>Executes <paramref name="command"/> for the tenant and returns its reader (one round trip when the context is sent along).</summary>
    /// <param name="command">A command from this session's <see cref="CreateCommand"/>.</param>
    /// <param name="behavior">Reader behavior (SingleResult and SingleRow are ignored while the context is prepended).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A reader positioned on the command's result.</returns>
    /// <exception cref="ArgumentException">The command belongs to another session.</exception>
    public Task<NpgsqlDataReader> ExecuteReaderAsync(TenantCommand command, CommandBehavior behavior = CommandBehavior.Default, CancellationToken cancellationToken = default) =>
        ExecuteReaderAsync(Own(command), behavior, cancellationToken);

    /// <summary>Executes <paramref name="command"/> for the tenant and returns the rows it affected.</summary>
    /// <param name="command">A command from this session's <see cref="CreateCommand"/>.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>Rows affected by the command.</returns>
    /// <exception cref="ArgumentException">The command belongs to another session.</exception>
    public Task<int> ExecuteNonQueryAsync(TenantCommand command, CancellationToken cancellationToken = default) =>
        ExecuteNonQueryAsync(Own(command), cancellationToken);

    /// <summary>Executes <paramref name="command"/> for the tenant and returns the first column of its first row, or null.</summary>
    /// <param name="command">A command from this session's <see cref="CreateCommand"/>.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The value, or null when there is no row (DBNull is returned as is).</returns>
    /// <exception cref="ArgumentException">The command belongs to another session.</exception>
    public Task<object?> ExecuteScalarAsync(TenantCommand command, CancellationToken cancellationToken = default) =>
        ExecuteScalarAsync(Own(command), cancellationToken);

    /// <summary>Executes <paramref name="command"/> for the tenant and returns its reader (one round trip when the context is sent along).</summary>
    /// <param name="command">A command of your own on <see cref="Connection"/> or without a connection (one statement; output parameters are not supported).</param>
    /// <param name="behavior">Reader behavior (SingleResult and SingleRow are ignored while the context is prepended).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A reader positioned on the command's result.</returns>
    public async Task<NpgsqlDataReader> ExecuteReaderAsync(NpgsqlCommand command, CommandBehavior behavior = CommandBehavior.Default, CancellationToken cancellationToken = default)
    {
        if (!NeedsContext)
        {
            Bind(command);
            return await command.ExecuteReaderAsync(behavior, cancellationToken).ConfigureAwait(false);
        }

#pragma warning disable CA2000 // The batch holds no unmanaged resources; the returned reader owns the in-flight results.
        var batch = CreateBatch(command);
#pragma warning restore CA2000
        var reader = await batch.ExecuteReaderAsync(behavior & ~(CommandBehavior.SingleResult | CommandBehavior.SingleRow), cancellationToken).ConfigureAwait(false);
        try
        {
            // The context's own result is already in the same network response: skipping it costs no round trip.
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // An error in the command surfaces here; close the reader so the session stays usable.
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        ContextSent();
        return reader;
    }

    /// <summary>Executes <paramref name="command"/> for the tenant and returns the rows it affected.</summary>
    /// <param name="command">A command of your own on <see cref="Connection"/> or without a connection.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>Rows affected by the command.</returns>
    public async Task<int> ExecuteNonQueryAsync(NpgsqlCommand command, CancellationToken cancellationToken = default)
    {
        if (!NeedsContext)
        {
            Bind(command);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var batch = CreateBatch(command);
        await using var batchDisposal = batch.ConfigureAwait(false);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        ContextSent();
        return batch.BatchCommands[1].RecordsAffected;
    }

    /// <summary>Executes <paramref name="command"/> for the tenant and returns the first column of its first row, or null.</summary>
    /// <param name="command">A command of your own on <see cref="Connection"/> or without a connection.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The value, or null when there is no row (DBNull is returned as is).</returns>
    public async Task<object?> ExecuteScalarAsync(NpgsqlCommand command, CancellationToken cancellationToken = default)
    {
        if (!NeedsContext)
        {
            Bind(command);
            var plain = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
            await using var plainDisposal = plain.ConfigureAwait(false);
            return await plain.ReadAsync(cancellationToken).ConfigureAwait(false) && plain.FieldCount > 0 ? plain.GetValue(0) : null;
        }

        // The same work as ExecuteReaderAsync, in one method: this is the hot path of a lookup.
        var batch = CreateBatch(command);
        await using var batchDisposal = batch.ConfigureAwait(false);
        var reader = await batch.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        ContextSent();
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && reader.FieldCount > 0 ? reader.GetValue(0) : null;
    }

    /// <summary>Rolls back an open transaction and returns the connection to the pool.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync().ConfigureAwait(false);
            _transaction = null;
        }

        await Connection.DisposeAsync().ConfigureAwait(false);
    }

    private bool NeedsContext => Transaction is null || !_contextInTransaction;

    private void ContextSent() => _contextInTransaction = Transaction is not null;

    private NpgsqlCommand Own(TenantCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!ReferenceEquals(command.Session, this))
        {
            throw new ArgumentException("The command was created by another tenant session; create it with this session's CreateCommand.", nameof(command));
        }

        return command.Command;
    }

    private void Bind(NpgsqlCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Connection is not null && !ReferenceEquals(command.Connection, Connection))
        {
            throw new ArgumentException("The command belongs to another connection; create it with this session's CreateCommand.", nameof(command));
        }

        command.Connection = Connection;
        command.Transaction = Transaction;
    }

    private NpgsqlBatch CreateBatch(NpgsqlCommand command)
    {
        Bind(command);
        if (command.CommandType != CommandType.Text)
        {
            throw new ArgumentException($"Only CommandType.Text is supported (got {command.CommandType}).", nameof(command));
        }

        var user = new NpgsqlBatchCommand(command.CommandText);
        var parameters = command.Parameters;
        for (var i = 0; i < parameters.Count; i++)
        {
            user.Parameters.Add(parameters[i].Clone());
        }

        // Always the command's timeout: once bound to the connection it reads the connection string's Command
        // Timeout unless set explicitly, so an explicit 30 (Npgsql's default) is kept over a shorter connection default.
        var batch = new NpgsqlBatch(Connection, Transaction) { Timeout = command.CommandTimeout };

        batch.BatchCommands.Add(_source.CreateContextCommand(_values));
        batch.BatchCommands.Add(user);
        return batch;
    }
}
