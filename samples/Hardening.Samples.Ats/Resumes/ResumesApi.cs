using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Hardening.Observability;
using Hardening.Rls;
using Hardening.Samples.Ats.Accounts;
using Hardening.Samples.Ats.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hardening.Samples.Ats.Resumes;

/// <summary>
/// <c>POST /api/candidates/{id}/resume</c> (multipart field <c>file</c>): size cap, type from the content's magic bytes
/// (PDF, DOCX) whatever the client claims, a sanitised file name and a per-candidate cap; accepted files are queued
/// in PostgreSQL for <see cref="ResumeWorker"/>. <c>GET .../resumes/{jobId}</c> shows the job.
/// </summary>
internal static class ResumesApi
{
    public static RouteGroupBuilder MapResumesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/candidates/{id}").WithTags("Resumes").RequireAuthorization().RequireRateLimiting(RateLimits.Api);
        group.MapPost("/resume", UploadAsync).DisableAntiforgery();
        group.MapGet("/resumes/{jobId}", GetAsync).WithName("GetResumeJob");
        return group;
    }

    internal enum Kind
    {
        Unknown,
        Pdf,
        Docx,
    }

    private static async Task<IResult> UploadAsync(string id, HttpContext http, TenantDataSource db, ITenantContext tenant, IOptions<AtsOptions> options, ResumeSignal signal, SecurityTelemetry security, CancellationToken ct)
    {
        var who = Caller.From(http.User)!;
        if (!Guid.TryParse(id, out var candidate))
        {
            return Problems.NotFound("candidate");
        }

        var max = options.Value.MaxResumeBytes;
        if (!http.Request.HasFormContentType)
        {
            return Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Send the résumé as multipart/form-data with a field named 'file'.");
        }

        if (http.Request.ContentLength > max + 64 * 1024)
        {
            return Problems.Status(StatusCodes.Status413PayloadTooLarge, $"A résumé can be at most {max} bytes.");
        }

        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = max + 64 * 1024, ValueCountLimit = 10 }, ct);
        }
        catch (InvalidDataException e)
        {
            return Problems.Status(StatusCodes.Status413PayloadTooLarge, $"A résumé can be at most {max} bytes ({e.Message}).");
        }

        var errors = new Dictionary<string, string[]>();
        var key = Idempotency.ReadKey(http.Request, errors);
        var file = form.Files.GetFile("file");
        if (file is null || file.Length == 0)
        {
            errors["file"] = ["'file' is required: a PDF or DOCX résumé."];
        }
        else if (file.Length > max)
        {
            return Problems.Status(StatusCodes.Status413PayloadTooLarge, $"'file' is {file.Length} bytes; a résumé can be at most {max} bytes.");
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var content = new byte[file!.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(content, ct);
        }

        var kind = Sniff(content);
        if (kind == Kind.Unknown)
        {
            security.Record(SecurityEvent.MaliciousUpload);
            return Problems.Status(StatusCodes.Status415UnsupportedMediaType, "'file' is neither a PDF nor a DOCX document (judged by its content, not its name or Content-Type).");
        }

        var name = SanitizeFileName(file.FileName, kind);
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        var job = Guid.CreateVersion7();
        await using var session = await db.OpenSessionAsync(tenant, ct);
        await session.BeginTransactionAsync(ct);
        if (key is not null && await Idempotency.ClaimAsync(session, who.TenantId, "resume:" + key, Idempotency.Hash(candidate + "/" + sha), ct) is { } replay)
        {
            await session.RollbackAsync(ct);
            return replay;
        }

        var check = session.CreateCommand("SELECT (SELECT count(*) FROM resume_jobs WHERE candidate_id = $1 AND state <> 'dead') FROM candidates WHERE id = $1 FOR UPDATE");
        check.Parameters.Add(new NpgsqlParameter { Value = candidate });
        if (await session.ExecuteScalarAsync(check, ct) is not long count)
        {
            await session.RollbackAsync(ct);
            return Problems.NotFound("candidate");
        }

        if (count >= options.Value.MaxResumesPerCandidate)
        {
            await session.RollbackAsync(ct);
            return Problems.Status(StatusCodes.Status409Conflict, $"This candidate already has {count} résumés; the limit is {options.Value.MaxResumesPerCandidate}.", "resume_limit");
        }

        var insert = session.CreateCommand("""
            INSERT INTO resume_jobs (tenant_id, id, candidate_id, file_name, content_type, size_bytes, sha256, content)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """);
        insert.Parameters.Add(new NpgsqlParameter { Value = who.TenantId });
        insert.Parameters.Add(new NpgsqlParameter { Value = job });
        insert.Parameters.Add(new NpgsqlParameter { Value = candidate });
        insert.Parameters.Add(new NpgsqlParameter { Value = name });
        insert.Parameters.Add(new NpgsqlParameter { Value = kind == Kind.Pdf ? "application/pdf" : "application/vnd.openxmlformats-officedocument.wordprocessingml.document" });
        insert.Parameters.Add(new NpgsqlParameter { Value = content.Length });
        insert.Parameters.Add(new NpgsqlParameter { Value = sha });
        insert.Parameters.Add(new NpgsqlParameter { Value = content });
        await session.ExecuteNonQueryAsync(insert, ct);
        var location = $"/api/candidates/{candidate}/resumes/{job}";
        var body = new { id = job, candidateId = candidate, fileName = name, sizeBytes = content.Length, state = "queued" };
        if (key is not null)
        {
            await Idempotency.CompleteAsync(session, "resume:" + key, StatusCodes.Status202Accepted, location, System.Text.Json.JsonSerializer.Serialize(body), ct);
        }

        await session.CommitAsync(ct);
        signal.Notify();
        return Results.Accepted(location, body);
    }

    private static async Task<IResult> GetAsync(string id, string jobId, TenantDataSource db, ITenantContext tenant, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var candidate) || !Guid.TryParse(jobId, out var job))
        {
            return Problems.NotFound("résumé");
        }

        await using var session = await db.OpenSessionAsync(tenant, ct);
        var select = session.CreateCommand("SELECT file_name, size_bytes, state, attempts, last_error, extracted_text IS NOT NULL FROM resume_jobs WHERE id = $1 AND candidate_id = $2");
        select.Parameters.Add(new NpgsqlParameter { Value = job });
        select.Parameters.Add(new NpgsqlParameter { Value = candidate });
        await using var r = await session.ExecuteReaderAsync(select, cancellationToken: ct);
        return await r.ReadAsync(ct)
            ? Results.Ok(new { id = job, candidateId = candidate, fileName = r.GetString(0), sizeBytes = r.GetInt32(1), state = r.GetString(2), attempts = r.GetInt32(3), lastError = r.IsDBNull(4) ? null : r.GetString(4), parsed = r.GetBoolean(5) })
            : Problems.NotFound("résumé");
    }

    /// <summary>PDF by its <c>%PDF-</c> header; DOCX by a ZIP whose entries include <c>word/document.xml</c>.</summary>
    internal static Kind Sniff(byte[] content)
    {
        if (content.AsSpan().StartsWith("%PDF-"u8))
        {
            return Kind.Pdf;
        }

        if (!content.AsSpan().StartsWith("PK\u0003\u0004"u8))
        {
            return Kind.Unknown;
        }

        try
        {
            using var zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
            return zip.GetEntry("word/document.xml") is not null && zip.GetEntry("[Content_Types].xml") is not null ? Kind.Docx : Kind.Unknown;
        }
        catch (InvalidDataException)
        {
            return Kind.Unknown;
        }
    }

    /// <summary>The client's name reduced to a safe one: no path, no control or odd characters, at most 100 characters, the real extension.</summary>
    internal static string SanitizeFileName(string? clientName, Kind kind)
    {
        var baseName = Path.GetFileNameWithoutExtension(Path.GetFileName((clientName ?? "").Replace('\\', '/')));
        var safe = new StringBuilder();
        foreach (var c in baseName)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ' ')
            {
                safe.Append(c);
            }
        }

        var stem = safe.ToString().Trim(' ', '.');
        if (stem.Length == 0)
        {
            stem = "resume";
        }

        return (stem.Length > 95 ? stem[..95] : stem) + (kind == Kind.Pdf ? ".pdf" : ".docx");
    }
}
