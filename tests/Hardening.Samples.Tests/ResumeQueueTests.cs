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
