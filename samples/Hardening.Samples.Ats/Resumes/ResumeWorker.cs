using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Hardening.Observability;
using Hardening.Rls;
using Hardening.Samples.Ats.Infrastructure;
using Hardening.Samples.Ats.Live;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hardening.Samples.Ats.Resumes;

/// <summary>Wakes the worker when a résumé is queued.</summary>
internal sealed class ResumeSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

/// <summary>
/// The résumé queue's worker: claims due jobs with <c>FOR UPDATE SKIP LOCKED</c> (several workers never take the same
/// job), "parses" them, retries failures with exponential backoff and moves a job that failed
/// <see cref="MaxAttempts"/> times to the dead-letter state; records the ingestion metrics.
/// </summary>
internal sealed partial class ResumeWorker(NpgsqlDataSource data, TenantDataSource db, ResumeSignal signal, IngestionTelemetry ingestion, TenantUsageTelemetry usage, IOptions<AtsOptions> options, ILogger<ResumeWorker> log) : BackgroundService
{
    public const int MaxAttempts = 4;

    private long _depth;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var depth = ingestion.TrackQueue("resumes", () => Interlocked.Read(ref _depth));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                long queued = 0;
                var claimed = 0;
                foreach (var tenant in await OutboxRelay.TenantsWithWorkAsync(data, stoppingToken))
                {
                    var (left, took) = await WorkAsync(tenant, stoppingToken);
                    queued += left;
                    claimed += took;
                }

                Interlocked.Exchange(ref _depth, queued);

                // After a pass that claimed jobs, look again at once: a backlog drains at the worker's speed, not one
                // batch per tenant per poll interval. A pass that claimed nothing (no due job) waits.
                if (claimed == 0)
                {
                    await signal.WaitAsync(options.Value.WorkerPollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (NpgsqlException)
            {
                await OutboxRelay.DelayAsync(options.Value.WorkerPollInterval, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // As in the outbox relay: an exception leaving ExecuteAsync would stop the host.
                AtsLog.WorkerPassFailed(log, "résumé worker", e);
                await OutboxRelay.DelayAsync(options.Value.WorkerPollInterval, stoppingToken);
            }
        }
    }

    /// <summary>Works a batch of the tenant's due jobs; returns how many are still queued and how many it claimed.</summary>
    private async Task<(long Left, int Claimed)> WorkAsync(Guid tenant, CancellationToken ct)
    {
        await using var session = await db.OpenSessionAsync(new TenantContext(tenant.ToString(), "system:resume-worker"), ct);
        await session.BeginTransactionAsync(ct);
        var claim = session.CreateCommand("""
            SELECT id, candidate_id, content_type, content, sha256, attempts FROM resume_jobs
            WHERE state = 'queued' AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 5 FOR UPDATE SKIP LOCKED
            """);
        var jobs = new List<(Guid Id, Guid Candidate, string Type, byte[] Content, string Sha, int Attempts)>();
        await using (var r = await session.ExecuteReaderAsync(claim, cancellationToken: ct))
        {
            while (await r.ReadAsync(ct))
            {
                jobs.Add((r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetFieldValue<byte[]>(3), r.GetString(4), r.GetInt32(5)));
            }
        }

        foreach (var job in jobs)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var text = ParseOrExplain(job.Type, job.Content, out var usedOcr);
                ingestion.RecordParseDuration(Stopwatch.GetElapsedTime(started));
                ingestion.RecordProcessed();
                if (usedOcr)
                {
                    ingestion.RecordOcrFallback();
                }

                var duplicate = session.CreateCommand("SELECT EXISTS (SELECT 1 FROM resume_jobs WHERE sha256 = $1 AND id <> $2 AND state = 'done')");
                duplicate.Parameters.Add(new NpgsqlParameter { Value = job.Sha });
                duplicate.Parameters.Add(new NpgsqlParameter { Value = job.Id });
                if (await session.ExecuteScalarAsync(duplicate, ct) is true)
                {
                    ingestion.RecordDuplicate();
                }

                var done = session.CreateCommand("UPDATE resume_jobs SET state = 'done', attempts = attempts + 1, extracted_text = $2, last_error = NULL WHERE id = $1");
                done.Parameters.Add(new NpgsqlParameter { Value = job.Id });
                done.Parameters.Add(new NpgsqlParameter { Value = text });
                await session.ExecuteNonQueryAsync(done, ct);
                usage.RecordResumesIngested(tenant.ToString());
                await Outbox.AddAsync(session, tenant, "resume.parsed", System.Text.Json.JsonSerializer.Serialize(new { id = job.Id, candidateId = job.Candidate }), ct);
            }
            catch (InvalidDataException e)
            {
                var attempt = job.Attempts + 1;
                var dead = attempt >= MaxAttempts;
                var fail = session.CreateCommand("""
                    UPDATE resume_jobs SET attempts = $2, last_error = $3, state = CASE WHEN $4 THEN 'dead' ELSE 'queued' END,
                        next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1
                    """);
                fail.Parameters.Add(new NpgsqlParameter { Value = job.Id });
                fail.Parameters.Add(new NpgsqlParameter { Value = attempt });
                fail.Parameters.Add(new NpgsqlParameter { Value = e.Message });
                fail.Parameters.Add(new NpgsqlParameter { Value = dead });
                fail.Parameters.Add(new NpgsqlParameter { Value = Math.Pow(2, attempt) });
                await session.ExecuteNonQueryAsync(fail, ct);
                ingestion.RecordFailure(IngestionFailureReason.Corrupt);
                if (dead)
                {
                    AtsLog.ResumeJobDead(log, job.Id, tenant, attempt);
                }
                else
                {
                    AtsLog.ResumeJobFailed(log, job.Id, tenant, attempt, e.Message);
                }
            }
        }

        var remaining = session.CreateCommand("SELECT count(*) FROM resume_jobs WHERE state = 'queued'");
        var left = (long)(await session.ExecuteScalarAsync(remaining, ct))!;
        await session.CommitAsync(ct);
        return (left, jobs.Count);
    }

    /// <summary>The most text a DOCX's <c>word/document.xml</c> may expand to (a small ZIP can inflate to gigabytes).</summary>
    internal const int MaxDocumentXmlChars = 8 * 1024 * 1024;

    /// <summary>
    /// <see cref="Parse"/>, with every way a document can be unreadable reported as <see cref="InvalidDataException"/>:
    /// the job then counts an attempt and ends dead-lettered, instead of failing the whole batch (and, before, the host)
    /// on every pass.
    /// </summary>
    internal static string ParseOrExplain(string contentType, byte[] content, out bool usedOcr)
    {
        try
        {
            return Parse(contentType, content, out usedOcr);
        }
        catch (Exception e) when (e is not (InvalidDataException or OutOfMemoryException))
        {
            throw new InvalidDataException($"The document could not be read ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    /// <summary>A stand-in parser: DOCX text from <c>word/document.xml</c>; PDF text operators, or "OCR" when it has no text.</summary>
    internal static string Parse(string contentType, byte[] content, out bool usedOcr)
    {
        usedOcr = false;
        if (contentType == "application/pdf")
        {
            var raw = Encoding.Latin1.GetString(content);
            if (!raw.Contains("%%EOF", StringComparison.Ordinal))
            {
                throw new InvalidDataException("The PDF is truncated (no %%EOF).");
            }

            var text = string.Join(" ", PdfText().Matches(raw).Select(m => m.Groups[1].Value));
            if (text.Length == 0)
            {
                usedOcr = true;   // a scanned PDF: a real parser would OCR it here
                text = "[scanned]";
            }

            return text;
        }

        using var zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
        var entry = zip.GetEntry("word/document.xml") ?? throw new InvalidDataException("The DOCX has no word/document.xml.");
        using var reader = new StreamReader(entry.Open());
        var xml = new StringBuilder();
        var chunk = new char[64 * 1024];
        int read;
        while ((read = reader.ReadBlock(chunk, 0, chunk.Length)) > 0)
        {
            if (xml.Length + read > MaxDocumentXmlChars)
            {
                throw new InvalidDataException($"The DOCX's word/document.xml expands to more than {MaxDocumentXmlChars / (1024 * 1024)} Mi characters.");
            }

            xml.Append(chunk, 0, read);
        }

        return XmlTags().Replace(xml.ToString(), " ").Trim();
    }

    [GeneratedRegex(@"\(([^()\\]{1,200})\)\s*Tj")]
    private static partial Regex PdfText();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex XmlTags();
}
