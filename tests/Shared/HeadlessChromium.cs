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

    /// <summary>Elements whose box reaches past the window's left or right edge (tag, id, class, extent, text).</summary>
    public static Task<string[]> Overflowing(IPage page) => page.EvaluateAsync<string[]>("""
        () => [...document.querySelectorAll('body *')].map(e => [e, e.getBoundingClientRect()])
          .filter(([e, r]) => (r.width > 0 || r.height > 0) && (r.left < -0.5 || r.right > window.innerWidth + 0.5))
          .map(([e, r]) => `${e.tagName} ${e.id} ${e.getAttribute('class') ?? ''} ${r.left.toFixed(1)}..${r.right.toFixed(1)}: ${(e.textContent ?? '').slice(0, 40)}`)
        """);

    /// <summary>SVG labels that stick out of their drawing (and so are clipped).</summary>
    public static Task<string[]> ClippedLabels(IPage page) => page.EvaluateAsync<string[]>("""
        () => [...document.querySelectorAll('svg text')].map(t => [t, t.getBoundingClientRect(), t.ownerSVGElement.getBoundingClientRect()])
          .filter(([t, r, s]) => r.left < s.left - 0.5 || r.right > s.right + 0.5 || r.top < s.top - 0.5 || r.bottom > s.bottom + 0.5)
          .map(([t]) => t.textContent)
        """);

    /// <summary>Pairs of labels of one byte map that sit on each other.</summary>
    public static Task<string[]> OverlappingMapLabels(IPage page) => page.EvaluateAsync<string[]>("""
        () => [...document.querySelectorAll('svg.bytemap')].flatMap(svg => {
          const b = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
          const out = [];
          for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++) {
            const [p, r] = b[i], [q, s] = b[j];
            if (r.left < s.right - 0.5 && s.left < r.right - 0.5 && r.top < s.bottom - 0.5 && s.top < r.bottom - 0.5) out.push(`${p} / ${q}`);
          }
          return out; })
        """);

    /// <summary>Asserts that the page fits its window: no sideways scrolling, no element past an edge, no clipped or
    /// overlapping label.</summary>
    public static async Task AssertFits(IPage page)
    {
        int width = await page.EvaluateAsync<int>("() => window.innerWidth");
        Xunit.Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), $"page scrolls sideways at {width} px");
        var over = await Overflowing(page);
        Xunit.Assert.True(over.Length == 0, string.Join("\n", over.Take(20)));
        var clipped = await ClippedLabels(page);
        Xunit.Assert.True(clipped.Length == 0, string.Join(", ", clipped));
        var overlapping = await OverlappingMapLabels(page);
        Xunit.Assert.True(overlapping.Length == 0, string.Join(", ", overlapping));
    }
}
