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
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await LogInAsync(page, s);

        var row = page.Locator($"tr[data-id='{id}']");
        await Assertions.Expect(row.Locator(".status")).ToHaveTextAsync("APPLIED", new() { Timeout = 30_000 });
        var navigations = 0;
        page.FrameNavigated += (_, _) => navigations++;

        // Another recruiter of the tenant moves the candidate through the API the moment the list shows it.
        var (status, _) = await s.TransitionAsync(id, "screen", "APPLIED", "moved by a second client");
        Assert.Equal(200, status);
        await Assertions.Expect(row.Locator(".status")).ToHaveTextAsync("SCREENING", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live: connected", new() { Timeout = 30_000 });
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

    /// <summary>
    /// The gap between reading the list and the event stream starting: the page's stream request is held in the
    /// browser while another client changes a candidate and the change is published, then let go. A page that read
    /// the list before its stream had started shows the old state for ever; ours reads the list once the stream is open.
    /// </summary>
    [Fact]
    public async Task A_change_made_while_the_page_connects_is_not_lost()
    {
        var s = await host.NewTenantAsync();
        var id = (await s.CreateCandidateAsync("Dorothy Vaughan")).GetProperty("id").GetString()!;
        using var http = s.Client();
        await using var published = await SseReader.OpenAsync(http, "/api/events");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("**/api/events**", async route =>
        {
            held.TrySetResult();
            await release.Task;
            await route.ContinueAsync();
        });
        await LogInAsync(page, s);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var (status, _) = await s.TransitionAsync(id, "screen", "APPLIED", "moved while the page connects");
        Assert.Equal(200, status);
        await published.ReadUntilAsync((type, data) => type == "candidate.transitioned" && data.Contains(id, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        release.TrySetResult();

        var row = page.Locator($"tr[data-id='{id}']");
        await Assertions.Expect(row.Locator(".status")).ToHaveTextAsync("SCREENING", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live: connected", new() { Timeout = 30_000 });

        // And the stream it opened carries the next change.
        (status, _) = await s.TransitionAsync(id, "reject", "SCREENING", "moved after the page connected");
        Assert.Equal(200, status);
        await Assertions.Expect(row.Locator(".status")).ToHaveTextAsync("REJECTED", new() { Timeout = 30_000 });
        Assert.Empty(errors);
    }

    private static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });

    private async Task LogInAsync(IPage page, Session s)
    {
        await page.GotoAsync(host.BaseAddress.ToString());
        await page.FillAsync("input[name=tenant]", s.Tenant);
        await page.FillAsync("input[name=email]", s.Email);
        await page.FillAsync("input[name=password]", s.Password);
        await page.ClickAsync("#login button[type=submit]");
    }
}
