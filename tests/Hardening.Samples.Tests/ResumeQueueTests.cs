using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Hardening.Samples.Tests;

/// <summary>The résumé worker drains a backlog larger than one batch without waiting for its poll interval.</summary>
public sealed class ResumeQueueTests
{
    [Fact]
    public async Task A_backlog_of_several_batches_drains_after_one_wake_up()
    {
        // A poll interval no test waits for: only the wake-up of an upload can start the worker.
        var host = new AtsHost { ExtraEnvironment = new Dictionary<string, string?> { ["Ats__WorkerPollInterval"] = "01:00:00" } };
        await host.InitializeAsync();
        try
        {
            var s = await host.NewTenantAsync();
            var backlog = (await s.CreateCandidateAsync("Backlog")).GetProperty("id").GetString()!;
            var woken = (await s.CreateCandidateAsync("Wake-up")).GetProperty("id").GetString()!;

            // 17 queued jobs written directly (no wake-up): more than three of the worker's batches of 5.
            var values = string.Join(",\n", Enumerable.Range(0, 17).Select(i =>
            {
                var pdf = Encoding.Latin1.GetBytes($"%PDF-1.4\nBT (job {i}) Tj ET\n%%EOF\n");
                return $"('{s.Tenant}', '{Guid.NewGuid()}', '{backlog}', 'job{i}.pdf', 'application/pdf', {pdf.Length}, '{Convert.ToHexStringLower(SHA256.HashData(pdf))}', '\\x{Convert.ToHexStringLower(pdf)}'::bytea)";
            }));
            await host.OwnerExecuteAsync($"INSERT INTO resume_jobs (tenant_id, id, candidate_id, file_name, content_type, size_bytes, sha256, content) VALUES {values}");

            // One upload wakes the worker once.
            using var http = s.Client();
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(Encoding.Latin1.GetBytes("%PDF-1.4\nBT (wake) Tj ET\n%%EOF\n"));
            file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/pdf");
            form.Add(file, "file", "wake.pdf");
            using (var r = await http.PostAsync(new Uri($"/api/candidates/{woken}/resume", UriKind.Relative), form))
            {
                Assert.Equal(202, (int)r.StatusCode);
            }

            long queued;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            do
            {
                await Task.Delay(200);
                queued = await host.OwnerScalarAsync<long>("SELECT count(*) FROM resume_jobs WHERE state = 'queued'");
            }
            while (queued > 0 && DateTime.UtcNow < deadline);

            Assert.Equal(0, queued);
            Assert.Equal(18, await host.OwnerScalarAsync<long>("SELECT count(*) FROM resume_jobs WHERE state = 'done'"));
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}

/// <summary>
/// Résumé jobs whose document cannot be read in ways the upload check does not see (written by an import or by hand):
/// each counts a failed attempt with a reason and is retried with back-off, while a good job claimed in the same batch
/// is done; none of them fails the batch on every pass or stops the host.
/// </summary>
[Collection(nameof(AtsCollection))]
public sealed class ResumePoisonTests(AtsHost host)
{
    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var s = zip.CreateEntry(name, System.IO.Compression.CompressionLevel.SmallestSize).Open();
                s.Write(content);
            }
        }

        return buffer.ToArray();
    }

    public static TheoryData<string, string, byte[], string> Unreadable => new()
    {
        { "a DOCX without word/document.xml", "docx", Zip(("[Content_Types].xml", "<Types/>"u8.ToArray()), ("word/other.xml", "<w/>"u8.ToArray())), "word/document.xml" },
        { "a DOCX whose document.xml inflates to 20 MB", "docx", Zip(("[Content_Types].xml", "<Types/>"u8.ToArray()), ("word/document.xml", new byte[20 * 1024 * 1024])), "expands to more than" },
        { "a DOCX that is not a ZIP", "docx", Encoding.ASCII.GetBytes("PK\u0003\u0004 not really a zip"), "" },
        { "a PDF without %%EOF", "pdf", Encoding.Latin1.GetBytes("%PDF-1.4\nBT (cut) Tj ET\n"), "%%EOF" },
    };

    [Theory]
    [MemberData(nameof(Unreadable))]
    public async Task An_unreadable_document_fails_its_own_job_only(string what, string kind, byte[] content, string reason)
    {
        var s = await host.NewTenantAsync();
        var candidate = (await s.CreateCandidateAsync("Poisoned")).GetProperty("id").GetString()!;
        var bad = Guid.NewGuid();
        var type = kind == "pdf" ? "application/pdf" : "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        await host.OwnerExecuteAsync($"INSERT INTO resume_jobs (tenant_id, id, candidate_id, file_name, content_type, size_bytes, sha256, content) VALUES ('{s.Tenant}', '{bad}', '{candidate}', 'bad.{kind}', '{type}', {content.Length}, '{Convert.ToHexStringLower(SHA256.HashData(content))}', '\\x{Convert.ToHexStringLower(content)}'::bytea)");

        // A good upload wakes the worker; its job and the bad one are claimed by the same pass.
        using var http = s.Client();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.Latin1.GetBytes($"%PDF-1.4\nBT (good {Guid.NewGuid():N}) Tj ET\n%%EOF\n"));
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/pdf");
        form.Add(file, "file", "good.pdf");
        using (var r = await http.PostAsync(new Uri($"/api/candidates/{candidate}/resume", UriKind.Relative), form))
        {
            Assert.Equal(202, (int)r.StatusCode);
        }

        var deadline = DateTime.UtcNow.AddSeconds(60);
        long goodDone, badAttempts;
        do
        {
            await Task.Delay(200);
            goodDone = await host.OwnerScalarAsync<long>($"SELECT count(*) FROM resume_jobs WHERE candidate_id = '{candidate}' AND id <> '{bad}' AND state = 'done'");
            badAttempts = await host.OwnerScalarAsync<int>($"SELECT attempts FROM resume_jobs WHERE id = '{bad}'");
        }
        while ((goodDone == 0 || badAttempts == 0) && DateTime.UtcNow < deadline);

        Assert.True(goodDone == 1, $"{what}: the good job of the same batch was not done");
        Assert.True(badAttempts >= 1, $"{what}: the bad job never counted an attempt");
        var error = await host.OwnerScalarAsync<string>($"SELECT last_error FROM resume_jobs WHERE id = '{bad}'");
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.NotEqual("done", await host.OwnerScalarAsync<string>($"SELECT state FROM resume_jobs WHERE id = '{bad}'"));
        using var alive = await http.GetAsync("/api/candidates");
        Assert.True(alive.IsSuccessStatusCode, $"{what}: the host answered {(int)alive.StatusCode}");
    }
}
