using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;

namespace Hardening.Rls.Lint;

/// <summary>The <c>hardening-rls-lint</c> command line: argument parsing and report output around <see cref="RlsLinter"/>.</summary>
public static class LintCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) }, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// The command-line linter: <c>--connection &lt;string&gt;</c> (or env <c>HARDENING_RLS_CONNECTION</c>),
    /// <c>--app-role &lt;role&gt;</c>, <c>--tenant-column &lt;column&gt;</c>, <c>--schema &lt;name&gt;</c> (repeatable),
    /// <c>--format text|json</c>. Exit code 0 without errors, 1 when there are error findings, 2 on bad arguments
    /// or when the database cannot be linted.
    /// </summary>
    /// <param name="args">The arguments.</param>
    /// <param name="stdout">Where the report goes.</param>
    /// <param name="stderr">Where usage and failures go.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The process exit code.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        const string Usage = "usage: hardening-rls-lint --connection <npgsql connection string> [--app-role <role>] [--tenant-column tenant_id] [--schema <name>]... [--format text|json]\n(the connection string may also come from HARDENING_RLS_CONNECTION)";
        string? connection = Environment.GetEnvironmentVariable("HARDENING_RLS_CONNECTION");
        var options = new RlsLintOptions();
        var format = "text";
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                await stdout.WriteLineAsync(Usage).ConfigureAwait(false);
                return 0;
            }

            if (arg is not ("--connection" or "--app-role" or "--tenant-column" or "--schema" or "--format"))
            {
                await stderr.WriteLineAsync($"error: unknown argument '{arg}'.\n{Usage}").ConfigureAwait(false);
                return 2;
            }

            if (i + 1 >= args.Length)
            {
                await stderr.WriteLineAsync($"error: {arg} needs a value.\n{Usage}").ConfigureAwait(false);
                return 2;
            }

            var value = args[++i];
            switch (arg)
            {
                case "--connection": connection = value; break;
                case "--app-role": options.AppRole = value; break;
                case "--tenant-column": options.TenantColumn = value; break;
                case "--schema": options.Schemas.Add(value); break;
                default: format = value; break;
            }
        }

        if (format is not ("text" or "json"))
        {
            await stderr.WriteLineAsync($"error: --format must be 'text' or 'json' (got '{format}').").ConfigureAwait(false);
            return 2;
        }

        if (string.IsNullOrWhiteSpace(connection))
        {
            await stderr.WriteLineAsync($"error: no connection string; pass --connection or set HARDENING_RLS_CONNECTION.\n{Usage}").ConfigureAwait(false);
            return 2;
        }

        RlsLintReport report;
        try
        {
            var linter = new RlsLinter(options);
            await using var dataSource = NpgsqlDataSource.Create(connection);
            report = await linter.LintAsync(dataSource, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or NpgsqlException or InvalidOperationException or TimeoutException)
        {
            await stderr.WriteLineAsync($"error: could not lint: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        if (format == "json")
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(report.Findings, Json)).ConfigureAwait(false);
        }
        else
        {
            foreach (var f in report.Findings)
            {
                await stdout.WriteLineAsync($"{(f.Level == RlsFindingLevel.Error ? "error" : "warning")}: {f.Rule}: {f.Object}: {f.Detail}\n    fix: {f.Remediation}").ConfigureAwait(false);
            }

            await stdout.WriteLineAsync($"{report.Errors} error(s), {report.Warnings} warning(s).").ConfigureAwait(false);
        }

        return report.Passed ? 0 : 1;
    }
}
