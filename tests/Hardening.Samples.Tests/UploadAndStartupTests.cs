using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Hardening.Samples.Tests;

/// <summary>Résumé uploads: caps, type by content, the queue and its worker.</summary>
[Collection(nameof(AtsCollection))]
public sealed class ResumeTests(AtsHost host)
{
    private static readonly byte[] Pdf = Encoding.Latin1.GetBytes("%PDF-1.4\n1 0 obj<<>>endobj\nBT (Ada Lovelace) Tj ET\n%%EOF\n");

    [Fact]
    public async Task A_PDF_and_a_DOCX_are_queued_and_parsed_and_the_per_candidate_cap_holds()
    {
        var s = await host.NewTenantAsync();
        var id = (await s.CreateCandidateAsync("With résumé")).GetProperty("id").GetString()!;
        using var http = s.Client();
        var (pdfStatus, pdfLocation) = await UploadAsync(http, id, Pdf, "../../etc/pass\u0001wd.exe", "application/octet-stream");
        Assert.Equal(202, pdfStatus);
        var (docxStatus, _) = await UploadAsync(http, id, Docx(), "cv.docx", "application/pdf");
        Assert.Equal(202, docxStatus);
        var (capStatus, _) = await UploadAsync(http, id, Pdf, "third.pdf", "application/pdf");
        Assert.Equal(409, capStatus);

        JsonElement job;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(200);
            job = await http.GetFromJsonAsync<JsonElement>(pdfLocation);
        }
        while (job.GetProperty("state").GetString() == "queued" && DateTime.UtcNow < deadline);

        Assert.Equal("done", job.GetProperty("state").GetString());
        Assert.Equal("passwd.pdf", job.GetProperty("fileName").GetString());
    }

    [Fact]
    public async Task An_oversized_or_mislabelled_upload_is_refused()
    {
        var s = await host.NewTenantAsync();
        var id = (await s.CreateCandidateAsync("Uploader")).GetProperty("id").GetString()!;
        using var http = s.Client();
        var big = new byte[100_001];
        Pdf.CopyTo(big, 0);
        Assert.Equal(413, (await UploadAsync(http, id, big, "big.pdf", "application/pdf")).Status);
        Assert.Equal(415, (await UploadAsync(http, id, Encoding.UTF8.GetBytes("<script>alert(1)</script>"), "cv.pdf", "application/pdf")).Status);
        Assert.Equal(415, (await UploadAsync(http, id, Encoding.UTF8.GetBytes("PK\u0003\u0004 not a zip"), "cv.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")).Status);
        Assert.Equal(404, (await UploadAsync(http, Guid.NewGuid().ToString(), Pdf, "cv.pdf", "application/pdf")).Status);
    }

    private static async Task<(int Status, string? Location)> UploadAsync(HttpClient http, string candidate, byte[] content, string name, string type)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        form.Add(file, "file", name);
        using var r = await http.PostAsync($"/api/candidates/{candidate}/resume", form);
        var body = await r.Content.ReadAsStringAsync();
        if ((int)r.StatusCode >= 400)
        {
            Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()));
        }

        return ((int)r.StatusCode, r.Headers.Location?.ToString());
    }

    private static byte[] Docx()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var w = new StreamWriter(zip.CreateEntry("[Content_Types].xml").Open()))
            {
                w.Write("<Types/>");
            }

            using (var w = new StreamWriter(zip.CreateEntry("word/document.xml").Open()))
            {
                w.Write("<w:document><w:body><w:p><w:r><w:t>Grace Hopper</w:t></w:r></w:p></w:body></w:document>");
            }
        }

        return ms.ToArray();
    }
}

/// <summary>Start-up refuses Development secrets and a wildcard CORS list outside Development, naming the setting.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("Auth__SigningKey", "development-only-signing-key-do-not-use-in-production-0123456789", "Auth:SigningKey")]
    [InlineData("Auth__Pepper", "development-only-pepper-do-not-use-in-production", "Auth:Pepper")]
    [InlineData("Ats__CorsOrigins__0", "*", "Ats:CorsOrigins")]
    public async Task Production_start_with_a_Development_setting_fails_naming_it(string variable, string value, string named)
    {
        var env = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Username=ats_app",
            ["ConnectionStrings__Redis"] = "127.0.0.1:1",
            ["Auth__SigningKey"] = "a production signing key of at least thirty-two bytes " + Guid.NewGuid(),
            ["Auth__Pepper"] = "a production pepper " + Guid.NewGuid(),
            [variable] = value,
        };
        var result = await ProcessRunner.RunAsync("dotnet", [AtsHost.Dll, "--contentRoot", AtsHost.Bin, "--urls", $"http://127.0.0.1:{FreePort.Next()}"], TimeSpan.FromMinutes(1), environment: env);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(named, result.StdOut + result.StdErr, StringComparison.Ordinal);
    }
}
