using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Observability.Tests.Alerts;

public sealed partial class AlertRuleTests(PostgresFixture postgres) : IDisposable, IClassFixture<PostgresFixture>
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hardening-rules-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Rendered_rule_file_passes_promtool_check_rules()
    {
        var file = await WriteRulesAsync(AlertRulePresets.Create());
        var result = await Exposition.PromtoolAsync($"check rules '{file}'");
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
        Assert.Contains($"SUCCESS: {AlertRulePresets.Create().Count} rules found", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_rule_fires_in_its_generated_promtool_test_and_stays_silent_in_the_other()
    {
        var rules = AlertRulePresets.Create();
        await WriteRulesAsync(rules);
        var tests = PrometheusRuleFile.RenderTests(rules, "hardening.rules.yml");
        foreach (var rule in rules)
        {
            Assert.Contains($"\"{rule.Name} fires\"", tests, StringComparison.Ordinal);
            Assert.Contains($"\"{rule.Name} stays silent\"", tests, StringComparison.Ordinal);
        }

        var testFile = Path.Combine(_dir, "hardening.rules.test.yml");
        await File.WriteAllTextAsync(testFile, tests);
        var result = await Exposition.PromtoolAsync($"test rules '{testFile}'");
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr + "\n" + tests);
        Assert.Contains("SUCCESS", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generated_tests_catch_a_rule_whose_threshold_is_wrong()
    {
        // Tests generated for the configured thresholds must fail against rules rendered with other thresholds.
        var tests = PrometheusRuleFile.RenderTests(AlertRulePresets.Create(), "hardening.rules.yml");
        await WriteRulesAsync(AlertRulePresets.Create(new AlertRuleOptions { ResumeBacklogThreshold = 1000, LoginFailuresPerSecond = 0.1, AvailabilityObjective = 0.9 }));
        var testFile = Path.Combine(_dir, "hardening.rules.test.yml");
        await File.WriteAllTextAsync(testFile, tests);
        var result = await Exposition.PromtoolAsync($"test rules '{testFile}'");
        Assert.NotEqual(0, result.ExitCode);
        var output = result.StdOut + result.StdErr;
        Assert.Contains("HardeningResumeBacklogHigh fires", output, StringComparison.Ordinal);
        Assert.Contains("HardeningLoginFailureSpike stays silent", output, StringComparison.Ordinal);
        Assert.Contains("HardeningAvailabilityBurnRatePage fires", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_rule_has_severity_summary_description_and_runbook()
    {
        var rules = AlertRulePresets.Create();
        var text = PrometheusRuleFile.Render(rules);
        Assert.Equal(rules.Count, Regex.Matches(text, "^          severity: (page|ticket)$", RegexOptions.Multiline).Count);
        Assert.Equal(rules.Count, Regex.Matches(text, "^          summary: \".+\"$", RegexOptions.Multiline).Count);
        Assert.Equal(rules.Count, Regex.Matches(text, "^          description: \".+\"$", RegexOptions.Multiline).Count);
        Assert.Equal(rules.Count, Regex.Matches(text, "^          runbook_url: \"https://runbooks.example.com/hardening/hardening[a-z]+\"$", RegexOptions.Multiline).Count);
    }

    [Fact]
    public void The_issue_s_alerts_are_all_present()
    {
        var names = AlertRulePresets.Create().Select(r => r.Name).ToHashSet();
        foreach (var name in (string[])[
                     "HardeningResumeBacklogHigh", "HardeningOcrFailureSpike", "HardeningIngestionFailureRateHigh", "HardeningLoginFailureSpike",
                     "HardeningTokenReplayDetected", "HardeningRlsMisconfigured", "HardeningSseDeliveryLagHigh", "HardeningPostgresDown",
                     "HardeningRedisDown", "HardeningAvailabilityBurnRatePage", "HardeningAvailabilityBurnRateTicket",
                     "HardeningLatencyBurnRatePage", "HardeningLatencyBurnRateTicket"])
        {
            Assert.Contains(name, names);
        }

        var backlog = AlertRulePresets.Create().Single(r => r.Name == "HardeningResumeBacklogHigh");
        Assert.Equal("max by (queue) (hardening_ingestion_queue_depth) > 100", backlog.Expression);
        Assert.Equal(TimeSpan.FromMinutes(5), backlog.For);
    }

    [Fact]
    public void Burn_rate_alerts_use_the_sre_workbook_windows_and_factors()
    {
        var rules = AlertRulePresets.Create(new AlertRuleOptions { AvailabilityObjective = 0.999 }).ToDictionary(r => r.Name);
        var page = rules["HardeningAvailabilityBurnRatePage"];
        Assert.Equal(AlertSeverity.Page, page.Severity);
        Assert.Equal(["1h", "5m", "6h", "30m"], Windows(page.Expression));
        Assert.Equal(["0.0144", "0.0144", "0.006", "0.006"], Thresholds(page.Expression));
        var ticket = rules["HardeningAvailabilityBurnRateTicket"];
        Assert.Equal(AlertSeverity.Ticket, ticket.Severity);
        Assert.Equal(["1d", "2h", "3d", "6h"], Windows(ticket.Expression));
        Assert.Equal(["0.003", "0.003", "0.001", "0.001"], Thresholds(ticket.Expression));
        Assert.Contains("http_response_status_code=~\"5..\"", page.Expression, StringComparison.Ordinal);
        Assert.Contains("le=\"0.5\"", rules["HardeningLatencyBurnRatePage"].Expression, StringComparison.Ordinal);

        static string[] Windows(string expr) => [.. Regex.Matches(expr, @"_count(?:\{[^}]*\})?\[(\w+)\]\)\) /").Select(m => m.Groups[1].Value)];
        static string[] Thresholds(string expr) => [.. Regex.Matches(expr, @"> ([0-9.e-]+)").Select(m => m.Groups[1].Value)];
    }

    [Fact]
    public async Task Every_metric_a_rule_reads_is_exported_under_that_name_by_the_real_packages()
    {
        // The packages' own instruments, driven through their code paths (a replayed jti, failed and throttled logins,
        // a rejected transition, a published event, a lint run on a real PostgreSQL): a renamed instrument or a changed
        // unit in any package changes the exported name and fails this test.
        var database = await postgres.Server.CreateDatabaseAsync("alerts");
        await using var app = await TestApp.StartAsync(b =>
            {
                b.Services.AddHardeningObservability(o => o.Prometheus.AllowAnonymous = true)
                    .AddHardeningReadinessCheck(HealthCheckNames.PostgreSql, (_, _) => Task.FromResult(HealthCheckResult.Healthy()))
                    .AddHardeningTokenReplayStoreCheck()
                    .AddHardeningSseStoreCheck();
                RealPackages.Register(b.Services, postgres.Server.ForDatabase(database));
            },
            a =>
            {
                a.MapHardeningMetrics();
                a.MapHardeningHealthChecks();
                a.MapGet("/", () => "ok");
            });
        var ingestion = app.Services.GetRequiredService<IngestionTelemetry>();
        using var queue = ingestion.TrackQueue("resumes", () => 3);
        ingestion.RecordProcessed();
        ingestion.RecordFailure(IngestionFailureReason.OcrFailed);
        ingestion.RecordOcrFallback();
        using var packages = await RealPackages.ExerciseAsync(app.Services, lint: true);
        packages.RecordOnTheRest(new Random(7));
        var client = app.Client();
        await client.GetStringAsync("/");
        await client.GetAsync("/health/ready");
        var series = Exposition.Parse(await client.GetStringAsync("/metrics")).ToList();
        var exported = series.Select(s => s.Name).ToHashSet();

        var referenced = AlertRulePresets.Create().SelectMany(r => MetricNames().Matches(r.Expression).Select(m => m.Value))
            .Where(n => n.StartsWith("hardening_", StringComparison.Ordinal) || n.StartsWith("http_", StringComparison.Ordinal))
            .ToHashSet();
        Assert.NotEmpty(referenced);
        foreach (var name in referenced)
        {
            Assert.True(exported.Contains(name), $"Rule metric {name} is not exported. Exported: {string.Join(", ", exported.Order())}");
        }

        // The label values the rules select on are the ones the packages and checks really produce.
        var checks = series.Where(s => s.Name == "hardening_health_check_status").Select(s => s.Labels["check"]).ToHashSet();
        Assert.Contains(HealthCheckNames.TokenReplayStore, checks);
        Assert.Contains(HealthCheckNames.SseStore, checks);
        Assert.Contains(series, s => s.Name == "hardening_auth_token_rejected_total" && s.Labels.GetValueOrDefault("reason") == "replayed");
        Assert.Contains(series, s => s.Name == "hardening_rls_lint_findings" && s.Labels.GetValueOrDefault("level") == "error");
    }

    [Fact]
    public void Bad_options_and_rules_are_rejected_with_the_reason()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => AlertRulePresets.Create(new AlertRuleOptions { LatencyThresholdSeconds = 0.3 }));
        Assert.Contains("bucket boundary", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => AlertRulePresets.Create(new AlertRuleOptions { AvailabilityObjective = 1 }));
        Assert.Throws<ArgumentException>(() => AlertRule.FromPromQL("bad name", "up == 0", TimeSpan.Zero, AlertSeverity.Page, "s", "d", "https://x"));
        var rule = AlertRule.FromPromQL("UpDown", "up == 0", TimeSpan.FromMinutes(1), AlertSeverity.Page, "s", "d", "https://x");
        Assert.Throws<ArgumentException>(() => PrometheusRuleFile.Render([rule, rule]));
        Assert.DoesNotContain("UpDown", PrometheusRuleFile.RenderTests([rule], "r.yml"), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"[a-zA-Z_:][a-zA-Z0-9_:]*(?=\{|\[)")]
    private static partial Regex MetricNames();

    private async Task<string> WriteRulesAsync(IReadOnlyList<AlertRule> rules)
    {
        var file = Path.Combine(_dir, "hardening.rules.yml");
        await File.WriteAllTextAsync(file, PrometheusRuleFile.Render(rules));
        return file;
    }
}
