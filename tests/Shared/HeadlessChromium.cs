using Microsoft.Playwright;

namespace XsaveLab.Tests;

/// <summary>What a page did while loading: console errors and uncaught exceptions, and every request that was not
/// for a local file (a self-contained page makes none).</summary>
internal sealed record PageLog(List<string> Errors, List<string> Requests);

/// <summary>The system Chromium, driven headless through Playwright, for the tests of the HTML pages. Tests skip
/// with <see cref="Missing"/> as the reason when it is not installed.</summary>
internal static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    /// <summary>Why the browser tests cannot run here, or null when they can.</summary>
    public static string? Missing => File.Exists(Executable) ? null : $"{Executable} is not installed (apt-get install chromium)";

    /// <summary>Opens <paramref name="file"/> in a <paramref name="width"/>×<paramref name="height"/> window of a fresh
    /// profile and runs <paramref name="check"/> on the loaded page.</summary>
    public static async Task Visit(string file, int width, int height, Func<IPage, PageLog, Task> check)
    {
        var profile = Path.Combine(Path.GetTempPath(), "xsavelab-chromium-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var pw = await Playwright.CreateAsync();
            // A fresh profile directory (Playwright passes it as --user-data-dir).
            await using var context = await pw.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = Executable,
                Headless = true,
                Args =
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                ],
                ViewportSize = new ViewportSize { Width = width, Height = height },
            });
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            var log = new PageLog([], []);
            page.Console += (_, m) => { if (m.Type == "error") log.Errors.Add(m.Text); };
            page.PageError += (_, e) => log.Errors.Add(e);
            page.Request += (_, req) => { if (!req.Url.StartsWith("file:", StringComparison.Ordinal)) log.Requests.Add(req.Url); };
            await page.GotoAsync(new Uri(file).AbsoluteUri);
            await check(page, log);
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        }
    }
}
