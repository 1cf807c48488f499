using System.Net;
using Microsoft.Playwright;
using XsaveLab.Cli.Commands.Report;
using XsaveLab.Cli.Rendering;
using XsaveLab.Sim.Report;

namespace XsaveLab.Cli.Tests;

/// <summary><c>report --html FILE</c>: the whole report as one self-contained page, checked as markup and in Chromium
/// at 800 and 1400 pixels.</summary>
public sealed class ReportHtmlTests : IDisposable
{
    /// <summary>A CPUID dump of a CPU without FXSR or XSAVE: the kernel section refuses it.</summary>
    public const string WithoutFxsr = """
        CPUID 00000000: 00000001-756E6547-6C65746E-49656E69
        CPUID 00000001: 000306C3-00100800-7BFAFBFF-BEEBFBFF
        """;

    private readonly ScratchDirectory _scratch = new("xsavelab-html-");

    public void Dispose() => _scratch.Dispose();

    private (string Html, CliResult Run) Page(string cpu, string? kernel = null)
    {
        string file = Path.Combine(_scratch.Path, $"report-{cpu}.html");
        var r = CliRunner.Run(["report", "--cpu", cpu, "--html", file, .. kernel is null ? Array.Empty<string>() : ["--kernel", kernel]]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"HTML report written to {file}", r.Out);
        return (File.ReadAllText(file), r);
    }

    private static ReportContext Context(string cpu, string? kernel = null) =>
        new(CpuSourceOptions.ResolveWord(cpu, "--cpu"), kernel is null ? null : KernelVariants.Get(kernel));

    [Theory]
    [InlineData("spr", null)]
    [InlineData("zen2-matisse", "6.15")]
    [InlineData("nehalem", null)]
    public void Page_is_self_contained_and_shows_every_block_of_every_section(string cpu, string? kernel)
    {
        var (html, run) = Page(cpu, kernel);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", ""));
        foreach (var banned in new[] { "<script", "<link", " src=", "url(", "@import" })
            Assert.DoesNotContain(banned, html, StringComparison.OrdinalIgnoreCase);
        var rc = Context(cpu, kernel);
        foreach (var s in ReportSections.For(rc))
        {
            Assert.Contains($"id=\"{s.JsonKey}\"", html);
            Assert.Contains($"<h2>{WebUtility.HtmlEncode(s.Title)}</h2>", html);
            Assert.Contains(s.Title, run.Out);
            // Everything the text report prints for the section is on the page.
            var blocks = Assert.IsAssignableFrom<IReadOnlyList<ReportBlock>>(rc.ContentOf(s));
            foreach (var text in blocks.SelectMany(Texts).Where(t => t.Length > 0))
                Assert.Contains(WebUtility.HtmlEncode(text), html);
        }
    }

    private static IEnumerable<string> Texts(ReportBlock b) => b switch
    {
        TextBlock t => [t.Text.Trim()],
        KeyValueBlock kv => kv.Rows.SelectMany(r => new[] { r.Key, r.Value }),
        TableBlock t => t.Table.Rows.SelectMany(r => r.Select(c => c.Text)),
        ExperimentBlock e => e.Result.Claims.Select(c => c.Claim).Concat(e.Result.Variants.Select(v => v.Case)),
        _ => [],
    };

    [Fact]
    public void Layout_byte_maps_name_every_component_as_text()
    {
        var (html, _) = Page("spr");
        var layout = Context("spr").Layout;
        var legend = Regex.Matches(Section(html, "layout"), "<span class=\"name\">([^<]+)</span>").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToHashSet();
        Assert.All(layout.Components, c => Assert.Contains(c.Name, legend));
        // Both formats drawn: standard for XCR0, compacted for XCR0|XSS.
        Assert.Contains("data-map=\"layout-standard\"", html);
        Assert.Contains("data-map=\"layout-compacted\"", html);
    }

    [Fact]
    public void Verdict_colours_agree_with_the_verdicts_and_the_numbers()
    {
        var (html, _) = Page("zen5-turin");
        var claims = Regex.Matches(html, "<div class=\"claim (\\w+)\"[^>]*><div class=\"verdict\">([^<]+)</div>");
        Assert.NotEmpty(claims);
        foreach (Match m in claims)
            Assert.Equal(m.Groups[2].Value switch { "confirmed" => "ok", "not confirmed" => "no", _ => "inconclusive" }, m.Groups[1].Value);

        double t = double.Parse(Regex.Match(html, "class=\"band\" data-threshold=\"([0-9.]+)\"").Groups[1].Value, CultureInfo.InvariantCulture);
        var whiskers = Regex.Matches(html, "class=\"err (\\w+)\" data-variant=\"[^\"]+\" data-lo=\"([^\"]+)\" data-hi=\"([^\"]+)\"");
        Assert.NotEmpty(whiskers);
        foreach (Match m in whiskers)
        {
            double lo = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), hi = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            // Green only when the whole ±2σ whisker lies inside the band, red only when wholly outside it.
            Assert.Equal(lo > -t && hi < t, m.Groups[1].Value == "inside");
            Assert.Equal(lo >= t || hi <= -t, m.Groups[1].Value == "outside");
        }
        // The table's throughput cells are coloured by the same verdict their text names.
        foreach (Match m in Regex.Matches(html, "<td data-h=\"throughput Δ vs case 1 \\(±1σ\\)\" class=\"num (\\w+)\">[^<]*\\((\\w+)\\)</td>"))
            Assert.Equal(m.Groups[2].Value switch { "inside" => "ok", "outside" => "no", _ => "inconclusive" }, m.Groups[1].Value);
        Assert.Contains("class=\"axis zero\"", html);
    }

    [Fact]
    public void Bytes_chart_switches_to_a_log_axis_when_bars_differ_widely()
    {
        var (html, _) = Page("spr");
        var chart = Regex.Match(html, "<svg class=\"chart\" data-chart=\"bytes\" data-scale=\"(\\w+)\".*?</svg>").Value;
        var values = Regex.Matches(chart, "data-value=\"([^\"]+)\"").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Where(v => v > 0).ToList();
        bool log = values.Max() / values.Min() >= ChartAxis.LogRatio;
        Assert.Contains($"data-scale=\"{(log ? "log" : "linear")}\"", chart);
        Assert.Contains(log ? "log scale" : "linear scale from 0", chart);
    }

    [Fact]
    public void A_section_that_cannot_run_fails_the_command_and_writes_nothing()
    {
        string dump = _scratch.Write("nofxsr.txt", WithoutFxsr), file = Path.Combine(_scratch.Path, "r.html");
        // The sections that can answer still print; the one error line says the page was not written.
        var r = CliRunner.Run("report", "--cpuid", dump, "--html", file);
        Assert.Equal(2, r.ExitCode);
        var err = Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: ", err);
        Assert.EndsWith("--html not written", err);
        Assert.False(File.Exists(file));
        Assert.Equal(["nofxsr.txt"], Directory.GetFileSystemEntries(_scratch.Path).Select(Path.GetFileName));
    }

    private static string Section(string html, string id)
    {
        int a = html.IndexOf($"<section class=\"report-section\" id=\"{id}\">", StringComparison.Ordinal);
        Assert.True(a >= 0, id);
        return html[a..html.IndexOf("</section>", a, StringComparison.Ordinal)];
    }

    [SkippableTheory]
    [InlineData(800)]
    [InlineData(1400)]
    public async Task Page_fits_the_window_and_shows_every_component_in_chromium(int width)
    {
        Skip.If(HeadlessChromium.Missing is not null, HeadlessChromium.Missing);
        const string cpu = "spr";
        var (_, _) = Page(cpu);
        string file = Path.Combine(_scratch.Path, $"report-{cpu}.html");
        var names = Context(cpu).Layout.Components.Select(c => c.Name).ToList();
        await HeadlessChromium.Visit(file, width, 1000, async (page, log) =>
        {
            int inner = await page.EvaluateAsync<int>("() => window.innerWidth");
            Assert.Equal(width, inner);
            // No sideways scrolling, no element past the window's edge, no clipped or overlapping label.
            await HeadlessChromium.AssertFits(page);
            // Every component of the CPU is named in visible text (not only in a tooltip).
            string text = await page.Locator("#layout").InnerTextAsync();
            var words = Regex.Split(text, "\\s+").ToHashSet();
            Assert.All(names, n => Assert.Contains(n, words));
            Assert.True(await page.Locator("svg.bytemap").CountAsync() >= 2);
            Assert.True(await page.Locator("svg.chart").CountAsync() >= 3);
            Assert.Empty(log.Errors);
            Assert.Empty(log.Requests);
            var dir = Path.Combine(AppContext.BaseDirectory, "TestResults");
            Directory.CreateDirectory(dir);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, $"report-{cpu}-{width}.png"), FullPage = true });
            // Each section on its own too, for reading the page without a browser.
            foreach (var id in await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('section')].map(s => s.id)"))
                await page.Locator($"section#{id}").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(dir, $"report-{cpu}-{width}-{id}.png") });
            foreach (var chart in await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('svg.chart')].map(s => s.dataset.chart)"))
                await page.Locator($"svg[data-chart={chart}]").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(dir, $"report-{cpu}-{width}-chart-{chart}.png") });
            await page.Locator("#variants").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(dir, $"report-{cpu}-{width}-variants.png") });
        });
    }
}
