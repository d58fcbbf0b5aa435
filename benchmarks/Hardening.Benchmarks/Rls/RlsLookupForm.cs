namespace Hardening.Benchmarks.Rls;

/// <summary>A way of making the tenant lookup, compared with the no-RLS lookup by <see cref="RlsPairedRounds"/>.</summary>
public enum RlsLookupForm
{
    /// <summary>Through <see cref="Hardening.Rls.TenantDataSource"/>: context + RLS lookup in one batch, via a session.</summary>
    TenantDataSource,

    /// <summary>The same batch built by hand on the connection: TenantDataSource without its session layer.</summary>
    HandBuiltBatch,

    /// <summary>The context statement batched before the no-RLS lookup: the cost of setting the context.</summary>
    ContextThenPlainLookup,

    /// <summary>An empty statement (<c>SELECT $1::text</c>) batched before the no-RLS lookup: the cost of any second statement.</summary>
    EmptyStatementThenPlainLookup,
}
