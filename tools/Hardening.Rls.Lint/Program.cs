// hardening-rls-lint: lints a live PostgreSQL database's row-level security; exit code 1 on error findings (for CI gates).
// Usage: hardening-rls-lint --connection "<npgsql connection string>" [--app-role ats_app] [--schema public] [--format json]
using Hardening.Rls.Lint;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
return await LintCommand.RunAsync(args, Console.Out, Console.Error, cancel.Token);
