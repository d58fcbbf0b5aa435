using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Hardening.Rls;

/// <summary>
/// Judges policies by what they admit, not by their text: inside a savepoint (or a transaction) that is rolled back,
/// acts as the application role and runs SELECT, UPDATE (of a constant, so SELECT policies do not join in) and DELETE
/// (without WHERE, for the same reason) on every tenant table, once with no context and once with a random tenant's
/// context, and INSERTs a row for yet another tenant. Any row reached or let in is a finding. SELECT, UPDATE and
/// DELETE cannot show anything on a table without rows.
/// </summary>
internal sealed class PolicyProbe(NpgsqlConnection connection, string? appRole, string tenantColumn, string[]? schemas, string[] settings)
{
    private const string Savepoint = "hardening_rls_probe";
    private const string StatementSavepoint = "hardening_rls_probe_stmt";

    private sealed record Table(string Name, string Type, bool Select, bool Update, bool Delete, bool Insert, string Remediation);

    public async Task RunAsync(List<RlsFinding> findings, CancellationToken cancellationToken)
    {
        var (role, canAct, unset) = await ScalarsAsync(cancellationToken).ConfigureAwait(false);
        if (!canAct)
        {
            findings.Add(new RlsFinding(RlsRules.PolicyProbeSkipped, RlsFindingLevel.Warning, role,
                $"The linting connection ({connection.UserName}) can neither act as {role} nor is a superuser, so the policies were not probed by behaviour.",
                $"GRANT {role} TO {connection.UserName}; -- or lint as {role} itself"));
            return;
        }

        var ownTransaction = !await TryExecuteAsync($"SAVEPOINT {Savepoint}", cancellationToken).ConfigureAwait(false);
        if (ownTransaction)
        {
            await ExecuteAsync("BEGIN", cancellationToken).ConfigureAwait(false);
        }

        try
        {
            // lock_timeout: a readiness check must not queue behind a migration's lock (a statement that times out counts as nothing reached).
            await ExecuteAsync($"SET LOCAL ROLE {role}; SET LOCAL row_security = on; SET LOCAL lock_timeout = '2s'", cancellationToken).ConfigureAwait(false);
            var tables = await TablesAsync(role, cancellationToken).ConfigureAwait(false);
            var none = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            var other = new Dictionary<string, List<string>>(StringComparer.Ordinal);

            // A setting never set in this session reads as NULL, one set before as ''; both mean "no context".
            if (unset)
            {
                await ProbeAllAsync(tables, null, "unset", none, cancellationToken).ConfigureAwait(false);
            }

            await SetContextAsync("", cancellationToken).ConfigureAwait(false);
            await ProbeAllAsync(tables, null, "empty", none, cancellationToken).ConfigureAwait(false);
            foreach (var t in tables)
            {
                var tenant = ProbeTenant(t.Type);
                await SetContextAsync(tenant, cancellationToken).ConfigureAwait(false);
                await ProbeAsync(t, tenant, "a random tenant's", other, cancellationToken).ConfigureAwait(false);
            }

            foreach (var t in tables)
            {
                if (none.TryGetValue(t.Name, out var n))
                {
                    findings.Add(new RlsFinding(RlsRules.PolicyAdmitsWithoutContext, RlsFindingLevel.Error, t.Name,
                        $"Probed as {role} with no tenant context, the policies let {string.Join("; ", n.Distinct())}: a request without a tenant is not refused.",
                        t.Remediation));
                }

                if (other.TryGetValue(t.Name, out var o))
                {
                    findings.Add(new RlsFinding(RlsRules.PolicyAdmitsOtherTenant, RlsFindingLevel.Error, t.Name,
                        $"Probed as {role} with {string.Join("; ", o.Distinct())}: the policies are not limited to the context's tenant.",
                        t.Remediation));
                }
            }
        }
        finally
        {
            await ExecuteAsync(ownTransaction ? "ROLLBACK" : $"ROLLBACK TO SAVEPOINT {Savepoint}; RELEASE SAVEPOINT {Savepoint}", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static string ProbeTenant(string type) => type switch
    {
        "uuid" => Guid.NewGuid().ToString(),
        "integer" or "bigint" or "smallint" or "numeric" => (-Random.Shared.Next(1000, 30000)).ToString(CultureInfo.InvariantCulture),
        _ => "hardening-lint-probe-" + Guid.NewGuid().ToString("N"),
    };

    private async Task ProbeAllAsync(List<Table> tables, string? tenant, string state, Dictionary<string, List<string>> into, CancellationToken cancellationToken)
    {
        foreach (var t in tables)
        {
            await ProbeAsync(t, tenant, $"the setting {state}", into, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ProbeAsync(Table t, string? tenant, string state, Dictionary<string, List<string>> into, CancellationToken cancellationToken)
    {
        void Admit(string what)
        {
            if (!into.TryGetValue(t.Name, out var list))
            {
                into[t.Name] = list = [];
            }

            list.Add(tenant is null ? $"{what} ({state})" : $"{state} context {what}");
        }

        var col = tenantColumn;
        if (t.Select && await RowsAsync(tenant is null ? $"SELECT count(*) FROM (SELECT FROM {t.Name} LIMIT 1) s" : $"SELECT count(*) FROM (SELECT FROM {t.Name} WHERE {col} IS DISTINCT FROM $1::{t.Type} LIMIT 1) s", tenant, scalar: true, cancellationToken).ConfigureAwait(false) != 0)
        {
            Admit("SELECT see rows");
        }

        // No column is read, so only the UPDATE (DELETE) policies decide; the tenant of the probe has no rows, so every row reached belongs to another.
        if (t.Update && await RowsAsync($"UPDATE {t.Name} SET {col} = $1::{t.Type}", tenant ?? ProbeTenant(t.Type), scalar: false, cancellationToken).ConfigureAwait(false) != 0)
        {
            Admit("UPDATE reach rows");
        }

        if (t.Delete && await RowsAsync($"DELETE FROM {t.Name}", null, scalar: false, cancellationToken).ConfigureAwait(false) != 0)
        {
            Admit("DELETE reach rows");
        }

        // A row for a tenant that is not the context's: PostgreSQL checks the policies' WITH CHECK before NOT NULL,
        // foreign keys and the other constraints, so a constraint error means the policies let the row in.
        if (t.Insert && await RowsAsync($"INSERT INTO {t.Name} ({col}) VALUES ($1::{t.Type})", ProbeTenant(t.Type), scalar: false, cancellationToken, insert: true).ConfigureAwait(false) != 0)
        {
            Admit("INSERT write another tenant's row");
        }
    }

    /// <summary>Rows seen or affected, in a savepoint that is rolled back; -1 when a WITH CHECK or constraint error (a row was reached or let in) stopped it, 0 on other errors.</summary>
    private async Task<long> RowsAsync(string sql, string? tenant, bool scalar, CancellationToken cancellationToken, bool insert = false)
    {
        await ExecuteAsync($"SAVEPOINT {StatementSavepoint}", cancellationToken).ConfigureAwait(false);
        try
        {
            var cmd = new NpgsqlCommand(sql, connection);
            await using var cmdDisposal = cmd.ConfigureAwait(false);
            if (sql.Contains("$1", StringComparison.Ordinal))
            {
                cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = tenant ?? "" });
            }

            return scalar ? Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture)
                          : await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (insert && e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // WITH CHECK refused the new row: closed.
            return 0;
        }
        catch (PostgresException e) when (!scalar && e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ForeignKeyViolation
                                              or PostgresErrorCodes.NotNullViolation or PostgresErrorCodes.CheckViolation or PostgresErrorCodes.UniqueViolation)
        {
            // A policy's WITH CHECK or a constraint rejected a row the policies had let the command reach.
            return -1;
        }
        catch (PostgresException)
        {
            return 0;
        }
        finally
        {
            await ExecuteAsync($"ROLLBACK TO SAVEPOINT {StatementSavepoint}; RELEASE SAVEPOINT {StatementSavepoint}", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task SetContextAsync(string tenant, CancellationToken cancellationToken)
    {
        var cmd = new NpgsqlCommand("SELECT set_config($1, $4, true), set_config($2, '', true), set_config($3, '', true)", connection)
        {
            Parameters =
            {
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = settings[0] },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = settings[1] },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = settings[2] },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = tenant },
            },
        };
        await using var cmdDisposal = cmd.ConfigureAwait(false);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<(string Role, bool CanAct, bool Unset)> ScalarsAsync(CancellationToken cancellationToken)
    {
        var cmd = new NpgsqlCommand(
            "SELECT format('%I', r.rolname), (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) OR pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'), current_setting($2, true) IS NULL FROM pg_catalog.pg_roles r WHERE r.rolname = coalesce($1, current_user)",
            connection)
        {
            Parameters =
            {
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)appRole ?? DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = settings[0] },
            },
        };
        await using var cmdDisposal = cmd.ConfigureAwait(false);
        var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2));
    }

    private async Task<List<Table>> TablesAsync(string role, CancellationToken cancellationToken)
    {
        var cmd = new NpgsqlCommand(LintQuery.ProbeTables, connection)
        {
            Parameters =
            {
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = appRole ?? role },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = tenantColumn },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = (object?)schemas ?? DBNull.Value },
            },
        };
        await using var cmdDisposal = cmd.ConfigureAwait(false);
        var tables = new List<Table>();
        var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerDisposal = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tables.Add(new Table(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4), reader.GetBoolean(5), reader.GetString(6)));
        }

        return tables;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        var cmd = new NpgsqlCommand(sql, connection);
        await using var cmdDisposal = cmd.ConfigureAwait(false);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> TryExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(sql, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.NoActiveSqlTransaction)
        {
            return false;
        }
    }
}
