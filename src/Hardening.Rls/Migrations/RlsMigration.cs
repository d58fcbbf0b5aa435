namespace Hardening.Rls;

/// <summary>Generated, idempotent migration SQL: run <see cref="Up"/> (or <see cref="Down"/>) as the schema owner or a superuser, as one command so it is atomic.</summary>
/// <param name="Up">Applies row-level security; running it again changes nothing.</param>
/// <param name="Down">Removes what <see cref="Up"/> added (the role is kept: it may own or be granted other objects).</param>
public sealed record RlsMigration(string Up, string Down);
