using System.Diagnostics.Metrics;

namespace Hardening.Observability.Tests;

/// <summary>
/// Stand-ins for the instruments the other Hardening packages publish, under the agreed meter and instrument names,
/// so that the exporter, the rules and the diagnosis page can be checked against them without referencing those packages.
/// </summary>
internal static class OtherPackages
{
    public static readonly string[] TokenReasons = ["expired", "not_yet_valid", "bad_signature", "bad_issuer", "bad_audience", "replayed", "malformed", "missing_claims", "store_unavailable"];

    public static void Record(IMeterFactory factory, Random random)
    {
        var auth = factory.Create(HardeningMeters.Auth);
        var rejected = auth.CreateCounter<long>("hardening.auth.token.rejected", "{token}", "Rejected tokens by reason.");
        foreach (var reason in TokenReasons)
        {
            rejected.Add(random.Next(0, 50), new KeyValuePair<string, object?>("reason", reason));
        }

        auth.CreateCounter<long>("hardening.auth.login.failures", "{attempt}").Add(random.Next(0, 100));
        auth.CreateCounter<long>("hardening.auth.login.throttled", "{attempt}").Add(random.Next(0, 10), new KeyValuePair<string, object?>("scope", "ip"));
        auth.CreateCounter<long>("hardening.auth.replay.store_errors", "{error}").Add(random.Next(0, 3));

        var rls = factory.Create(HardeningMeters.Rls);
        var findings = rls.CreateUpDownCounter<long>("hardening.rls.lint.findings", "{finding}");
        findings.Add(random.Next(0, 3), new KeyValuePair<string, object?>("level", "error"));
        findings.Add(random.Next(0, 3), new KeyValuePair<string, object?>("level", "warning"));
        rls.CreateCounter<long>("hardening.rls.tenant.mismatches", "{mismatch}").Add(random.Next(0, 2));

        var fsm = factory.Create(HardeningMeters.Fsm);
        fsm.CreateCounter<long>("hardening.fsm.transitions", "{transition}").Add(
            random.Next(1, 100), new("machine", "candidate"), new("outcome", "rejected"), new("reason", "invariant \"has_cv\" failed"));

        var sse = factory.Create(HardeningMeters.Sse);
        sse.CreateUpDownCounter<long>("hardening.sse.connections", "{connection}").Add(random.Next(0, 20));
        foreach (var name in (string[])["published", "delivered", "replayed"])
        {
            sse.CreateCounter<long>($"hardening.sse.events.{name}", "{event}").Add(random.Next(0, 1000));
        }

        sse.CreateCounter<long>("hardening.sse.resets", "{reset}").Add(random.Next(0, 3));
        sse.CreateCounter<long>("hardening.sse.slow_consumer.disconnects", "{connection}").Add(random.Next(0, 3));
        var lag = sse.CreateHistogram<double>("hardening.sse.delivery.lag", "s", "Publish-to-write lag.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10] });
        for (var i = 0; i < 20; i++)
        {
            lag.Record(random.NextDouble() * 3);
        }
    }
}
