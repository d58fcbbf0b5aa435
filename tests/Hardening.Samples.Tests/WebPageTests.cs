using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Hardening.Samples.Tests;

/// <summary>
/// The static page in headless Chromium (apt <c>chromium</c>): a recruiter logs in, sees the list, and a status change
/// made by a second client arrives without a reload. The screenshot is kept in artifacts/test-results.
/// </summary>
[Collection(nameof(AtsCollection))]
public sealed class WebPageTests(AtsHost host)
{
    [Fact]
    public async Task A_change_made_elsewhere_appears_on_the_page_without_a_reload()
    {
        var s = await host.NewTenantAsync();
        var id = (await s.CreateCandidateAsync("Katherine Johnson")).GetProperty("id").GetString()!;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(host.BaseAddress.ToString());
        await page.FillAsync("input[name=tenant]", s.Tenant);
        await page.FillAsync("input[name=email]", s.Email);
        await page.FillAsync("input[name=password]", s.Password);
        await page.ClickAsync("#login button[type=submit]");

        var row = page.Locator($"tr[data-id='{id}']");
        await Assertions.Expect(row.Locator(".status")).ToHaveTextAsync("APPLIED", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live: connected", new() { Timeout = 30_000 });
        var navigations = 0;
        page.FrameNavigated += (_, _) => navigations++;

        // Another recruiter of the tenant moves the candidate through the API.
        var (status, _) = await s.TransitionAsync(id, "screen", "APPLIED", "moved by a second client");
        Assert.Equal(200, status);
        await Assertions.Expect(row.Locator(".status")).ToHaveTextAsync("SCREENING", new() { Timeout = 30_000 });
        Assert.Equal(0, navigations);

        // And the page moves it too, through its own button.
        await row.Locator("button[data-trigger=reject]").ClickAsync();
        await Assertions.Expect(row.Locator(".status")).ToHaveTextAsync("REJECTED", new() { Timeout = 30_000 });
        using var http = s.Client();
        Assert.Equal("REJECTED", (await http.GetFromJsonAsync<JsonElement>($"/api/candidates/{id}")).GetProperty("status").GetString());

        var dir = Path.Combine(RepoPaths.Root, "artifacts", "test-results", "screenshots");
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "sample-ats-page.png"), FullPage = true });
        Assert.Empty(errors);
    }
}
