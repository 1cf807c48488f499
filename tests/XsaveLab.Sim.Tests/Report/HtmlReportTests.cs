namespace XsaveLab.Sim.Tests.Report;

public class HtmlReportTests
{
    private static CetSResult Result()
    {
        var sizes = new ComponentBytes(new Dictionary<int, int> { [2] = 256, [5] = 64, [6] = 512, [7] = 1024 });
        var cost = Calibrator.Run(new Tests.Cost.SyntheticTimer(sizes, XFeatureMasks.FpSse | XFeatureMasks.Ymm | XFeatureMasks.Avx512, 1, 9)).Parameters
            with
        { SwitchFixedNs = 2000 };
        return CetSExperiment.Run(CpuCatalog.Get("zen5-turin"), new CetSOptions { CostModel = cost, SimulatedSwitches = 4000, Tasks = 50, Vcpus = 2 });
    }

    [Fact]
    public void Page_is_self_contained_and_has_maps_charts_and_tables()
    {
        var r = Result();
        var html = HtmlReport.Render(r);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", ""));
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<link", html);
        Assert.Equal(2 * r.Variants.Count, CountOf(html, "class=\"bytemap\""));
        Assert.Contains("data-chart=\"throughput\"", html);
        Assert.Contains("data-chart=\"sweep\"", html);
        // The CET_S segment of the 6.17 vCPU map carries its offset from the layout rules.
        var v = r.Variants.Single(x => x.Name == "6.17");
        var cet = v.VcpuLayout.Segments.Single(s => s.Component == 12);
        Assert.Contains($"offset {cet.Offset}, {cet.Size} bytes", html);
        Assert.DoesNotContain(r.Variants.Single(x => x.Name == "6.17").TaskLayout.Segments, s => s.Component == 12);
    }

    [Fact]
    public void Throughput_chart_agrees_with_the_verdicts()
    {
        var r = Result();
        var html = HtmlReport.Render(r);
        var band = System.Text.RegularExpressions.Regex.Match(html, "class=\"band\" data-threshold=\"([0-9.]+)\"");
        Assert.True(band.Success);
        Assert.Equal(r.VariationThresholdPct, double.Parse(band.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 2);
        Assert.Contains("class=\"axis zero\"", html);
        foreach (var v in r.Variants)
        {
            string cls = HtmlReport.BarClass(v.WithinVariation);
            Assert.Contains($"class=\"bar {cls}\" data-variant=\"{v.Name}\"", html);
            var err = System.Text.RegularExpressions.Regex.Match(html, $"class=\"err {cls}\" data-variant=\"{v.Name}\" data-lo=\"([^\"]+)\" data-hi=\"([^\"]+)\"");
            Assert.True(err.Success, v.Name);
            double lo = double.Parse(err.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            double hi = double.Parse(err.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            double t = r.VariationThresholdPct;
            // The whisker's place against the band is exactly what the colour says.
            Assert.Equal(lo > -t && hi < t, cls == "inside");
            Assert.Equal(lo >= t || hi <= -t, cls == "outside");
        }
        foreach (var c in r.Claims)
            Assert.Contains($"<div class=\"verdict\">{c.Label.ToLowerInvariant()}</div>", html);
        Assert.Contains("id=\"breakdown\"", html);
    }

    [SkippableTheory]
    [InlineData(800)]
    [InlineData(1400)]
    public async Task Report_renders_in_headless_chromium_without_console_errors(int width)
    {
        Skip.If(HeadlessChromium.Missing is not null, HeadlessChromium.Missing);
        var r = Result();
        var dir = Path.Combine(AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"cet-s-report-{width}.html");
        File.WriteAllText(file, HtmlReport.Render(r));

        await HeadlessChromium.Visit(file, width, 900, async (page, log) =>
        {
            await HeadlessChromium.AssertFits(page);
            Assert.Equal(2 * r.Variants.Count, await page.Locator("svg.bytemap").CountAsync());
            Assert.Equal(3, await page.Locator("svg.chart").CountAsync());
            Assert.Equal(r.Variants.Count + 1, await page.Locator("#variants tr").CountAsync());
            Assert.Equal(r.Sweep.Count + 1, await page.Locator("#sweep tr").CountAsync());
            Assert.Equal(r.Claims.Count, await page.Locator("#claims .claim").CountAsync());
            // Charts actually laid out (non-zero boxes), bars drawn.
            var box = await page.Locator("svg[data-chart=throughput]").BoundingBoxAsync();
            Assert.True(box is { Width: > 100, Height: > 100 });
            Assert.True(await page.Locator("svg[data-chart=throughput] rect.bar").CountAsync() >= 3);
            Assert.True(await page.Locator("svg[data-chart=sweep] rect.sw").CountAsync() >= r.Sweep.Count(s => s.TaskBytesCase2 is not null));
            Assert.Empty(log.Errors);
            Assert.Empty(log.Requests);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, $"cet-s-report-{width}.png"), FullPage = true });
            Assert.True(new FileInfo(Path.Combine(dir, $"cet-s-report-{width}.png")).Length > 10_000);
        });
    }

    private static int CountOf(string s, string what)
    {
        int n = 0, i = 0;
        while ((i = s.IndexOf(what, i, StringComparison.Ordinal)) >= 0) { n++; i += what.Length; }
        return n;
    }
}
