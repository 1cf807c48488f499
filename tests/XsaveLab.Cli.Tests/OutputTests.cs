namespace XsaveLab.Cli.Tests;

public class OutputTests
{
    private static JsonElement JsonOf(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Err);
        return JsonDocument.Parse(r.Out).RootElement;
    }

    private static int? IntOrNull(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetInt32();

    public static TheoryData<string> Names() => [.. CpuCatalog.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public void LayoutJson_HasTheAgreedKeys_AndTheModelsNumbers(string name)
    {
        var j = JsonOf("layout", "--cpu", name, "--format", "json");
        var view = LayoutView.Create(CpuCatalog.Get(name));
        Assert.Equal(name, j.GetProperty("cpu").GetString());
        Assert.Equal($"0x{view.Xcr0:x}", j.GetProperty("xcr0").GetString());
        Assert.Equal($"0x{view.Xss:x}", j.GetProperty("xss").GetString());
        var comps = j.GetProperty("components").EnumerateArray().ToList();
        Assert.Equal(view.Components.Count, comps.Count);
        foreach (var (c, row) in comps.Zip(view.Components))
        {
            Assert.Equal(row.Number, c.GetProperty("nr").GetInt32());
            Assert.Equal(row.Name, c.GetProperty("name").GetString());
            Assert.Equal(row.Size, c.GetProperty("size").GetInt32());
            Assert.Equal(row.StandardOffset, IntOrNull(c.GetProperty("standardOffset")));
            Assert.Equal(row.CompactedOffset, IntOrNull(c.GetProperty("compactedOffset")));
            Assert.Equal(row.Supervisor, c.GetProperty("supervisor").GetBoolean());
            Assert.Equal(row.Aligned64, c.GetProperty("aligned64").GetBoolean());
            Assert.Equal(row.Xfd, c.GetProperty("xfd").GetBoolean());
        }
        var sizes = j.GetProperty("sizes");
        Assert.Equal(view.StandardSize, IntOrNull(sizes.GetProperty("standard")));
        Assert.Equal(view.CompactedSize, IntOrNull(sizes.GetProperty("compacted")));
        Assert.Equal(view.CompactedWithSupervisorSize, IntOrNull(sizes.GetProperty("compactedWithSupervisor")));
        Assert.Equal(JsonValueKind.Array, j.GetProperty("warnings").ValueKind);
    }

    [Fact]
    public void Layout_Masks_AreApplied()
    {
        var j = JsonOf("layout", "--cpu", "spr", "--xcr0", "0x7", "--xss", "0x1800", "--format", "json");
        Assert.Equal("0x7", j.GetProperty("xcr0").GetString());
        Assert.Equal([0, 1, 2, 11, 12], j.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("nr").GetInt32()));
        Assert.Equal(LayoutView.Create(CpuCatalog.Get("spr"), 0x7, 0x1800).CompactedWithSupervisorSize,
            j.GetProperty("sizes").GetProperty("compactedWithSupervisor").GetInt32());
    }

    [Fact]
    public void Layout_InvalidXcr0Combination_IsComputedWithAWarning()
    {
        var j = JsonOf("layout", "--cpu", "spr", "--xcr0", "0x20007", "--format", "json");
        Assert.Contains(j.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("XTILECFG and XTILEDATA"));
    }

    [Fact]
    public void Layout_Zen2_WarnsAboutThe64BytePkru()
    {
        var j = JsonOf("layout", "--cpu", "zen2-castle-peak", "--format", "json");
        Assert.Contains(j.GetProperty("findings").EnumerateArray(),
            f => f.GetProperty("code").GetString() == "COMPONENT_SIZE" && f.GetProperty("severity").GetString() == "warning");
        Assert.Contains("warning: COMPONENT_SIZE", CliRunner.Run("layout", "--cpu", "zen2-castle-peak").Out);
    }

    [Fact]
    public void Layout_Text_ShowsTableAndSizes()
    {
        var r = CliRunner.Run("layout", "--cpu", "spr");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("XTILEDATA", r.Out);
        Assert.Contains("standard size, XCR0", r.Out);
        Assert.Contains($"{XsaveLab.Arch.Text.Numbers.Bytes(LayoutView.Create(CpuCatalog.Get("spr")).CompactedWithSupervisorSize!.Value)}", r.Out);
    }

    [Fact]
    public void Layout_CpuidFile_InCompactForm_GivesTheSameLayoutAsTheCatalog()
    {
        var path = Path.Combine(Path.GetTempPath(), $"xsavelab-{Guid.NewGuid():N}.cpuid");
        try
        {
            File.WriteAllText(path, CpuCatalog.ToCompactProfile(CpuCatalog.Get("tgl"), "my-tgl", "test copy"));
            var fromFile = JsonOf("layout", "--cpuid", path, "--format", "json");
            var builtIn = JsonOf("layout", "--cpu", "tgl", "--format", "json");
            Assert.Equal("my-tgl", fromFile.GetProperty("cpu").GetString());
            Assert.Equal(builtIn.GetProperty("components").GetRawText(), fromFile.GetProperty("components").GetRawText());
            Assert.Equal(builtIn.GetProperty("sizes").GetRawText(), fromFile.GetProperty("sizes").GetRawText());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [SkippableFact]
    public void Layout_CpuidFile_FullDump_IsNamedAfterTheFile()
    {
        Skip.If(RepoPaths.CpuidDumps is null, RepoPaths.NoDumps);
        var source = CpuCatalog.Get("zen4-genoa").Source;
        var j = JsonOf("layout", "--cpuid", Path.Combine(RepoPaths.CpuidDumps!, source), "--format", "json");
        Assert.Equal(Path.GetFileNameWithoutExtension(source), j.GetProperty("cpu").GetString());
        Assert.Equal(JsonOf("layout", "--cpu", "zen4-genoa", "--format", "json").GetProperty("components").GetRawText(),
            j.GetProperty("components").GetRawText());
    }

    [Fact]
    public void CpusJson_ListsTheCatalog()
    {
        var j = JsonOf("cpus", "--format", "json");
        var names = j.EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        Assert.Equal(CpuCatalog.Names, names);
        var spr = j.EnumerateArray().Single(c => c.GetProperty("name").GetString() == "spr");
        Assert.True(spr.GetProperty("default").GetBoolean());
        Assert.Equal($"0x{CpuCatalog.Get("spr").SupportedXcr0:x}", spr.GetProperty("xcr0").GetString());
    }

    [Fact]
    public void Cpus_Text_ShowsEveryName()
    {
        var r = CliRunner.Run("cpus");
        Assert.Equal(0, r.ExitCode);
        Assert.All(CpuCatalog.Names, n => Assert.Contains(n, r.Out));
    }

    [Fact]
    public void ReportJson_HasEverySection()
    {
        var j = JsonOf("report", "--cpu", "zen2-matisse", "--format", "json");
        Assert.Equal("zen2-matisse", j.GetProperty("cpu").GetString());
        Assert.Contains("zen2-matisse", j.GetProperty("origin").GetString());
        Assert.Equal("AMD", j.GetProperty("profile").GetProperty("vendor").GetString());
        Assert.Equal("zen2-matisse", j.GetProperty("layout").GetProperty("cpu").GetString());
        Assert.Contains(j.GetProperty("findings").EnumerateArray(),
            f => f.GetProperty("code").GetString() == "COMPONENT_SIZE" && f.GetProperty("severity").GetString() == "warning");
    }

    [Fact]
    public void Report_Text_IsReadable()
    {
        var r = CliRunner.Run("report", "--cpu", "spr");
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var s in new[] { "CPU", "XSAVE layout", "Sanity checks", "Sapphire", "built-in CPU 'spr'", "XTILECFG", "OS_XSS_SIZE" })
            Assert.Contains(s, r.Out);
        Assert.DoesNotContain("\u001b[", r.Out); // no escape codes when redirected
        Assert.All(r.Out.Split('\n'), l => Assert.True(l.Length <= 160, $"line too wide: {l}"));
    }

    [Fact]
    public void Report_PrintsEverySectionInOrder_InTextAndJson()
    {
        var text = CliRunner.Run("report", "--cpu", "tgl").Out;
        var positions = Commands.Report.ReportSections.All.Select(s => text.IndexOf(s.Title, StringComparison.Ordinal)).ToList();
        Assert.All(positions, p => Assert.True(p >= 0));
        Assert.Equal(positions.Order(), positions);
        var json = JsonOf("report", "--cpu", "tgl", "--format", "json");
        Assert.All(Commands.Report.ReportSections.All, s => Assert.True(json.TryGetProperty(s.JsonKey, out _), s.JsonKey));
    }

    [Fact]
    public void Report_KernelOption_BootsThatVariant()
    {
        // tgl has CET_S: the per-task fpstate grows by its 24 bytes only when every task carries it (case3).
        var landed = JsonOf("report", "--cpu", "tgl", "--format", "json");
        var case3 = JsonOf("report", "--cpu", "tgl", "--kernel", "case3", "--format", "json");
        Assert.Equal("6.17", landed.GetProperty("kernelVariant").GetString());
        Assert.Equal("case3", case3.GetProperty("kernelVariant").GetString());
        int Task(System.Text.Json.JsonElement j) => j.GetProperty("kernel").GetProperty("boot").GetProperty("kernelCfg").GetProperty("defaultSize").GetInt32();
        Assert.Equal(Task(landed) + 24, Task(case3));
        var v3 = CliRunner.Run("report", "--cpu", "tgl", "--kernel", "v3");
        Assert.True(v3.ExitCode == 0, v3.ToString());
        Assert.Contains("kernel v3:", v3.Out);
    }

    [Fact]
    public void Report_WithoutCpuOption_SaysWhichCpuItUsed()
    {
        var r = CliRunner.Run("report");
        Assert.True(r.ExitCode == 0, r.ToString());
        bool hostUsable = HostCpu.TryRead(out var host, out _) && host!.HasXsave;
        Assert.Contains(hostUsable ? "this machine's CPU" : $"built-in CPU '{CpuCatalog.DefaultName}' (the default", r.Out);
    }

    [Fact]
    public void Report_CpuWithoutXsave_StillReports()
    {
        var r = CliRunner.Run("report", "--cpu", "nehalem");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("NO_XSAVE", r.Out);
    }

    [Fact]
    public void NoArguments_PrintsHelpListingTheCommands()
    {
        var r = CliRunner.Run();
        Assert.Equal(0, r.ExitCode);
        foreach (var c in new[] { "report", "layout", "cpus" })
            Assert.Contains(c, r.Out);
        Assert.DoesNotContain("catalog", r.Out); // maintenance command stays hidden
    }

    [SkippableFact]
    public void LayoutHost_MatchesTheKernelBootLog()
    {
        Skip.IfNot(HostCpu.TryRead(out var cpu, out var why), why);
        Skip.IfNot(cpu!.HasXsaves, "the host has no XSAVES");
        Skip.IfNot(KernelLog.TryRead(out var log, out var whyLog), $"kernel log not usable: {whyLog}");
        Skip.If(log!.EnabledFeatures is null, "the kernel log lacks the 'Enabled xstate features' line");
        ulong enabled = log.EnabledFeatures!.Value;
        var j = JsonOf("layout", "--host", "--xcr0", $"0x{enabled & cpu.SupportedXcr0:x}", "--xss", $"0x{enabled & cpu.SupportedXss:x}", "--format", "json");
        Assert.Equal("host", j.GetProperty("cpu").GetString());
        var byNr = j.GetProperty("components").EnumerateArray().ToDictionary(c => c.GetProperty("nr").GetInt32());
        foreach (var (nr, (offset, size)) in log.Offsets)
        {
            Assert.Equal(offset, byNr[nr].GetProperty("compactedOffset").GetInt32());
            Assert.Equal(size, byNr[nr].GetProperty("size").GetInt32());
        }
        Assert.Equal(log.ContextSize, j.GetProperty("sizes").GetProperty("compactedWithSupervisor").GetInt32());
        Assert.Equal((int)cpu.Leaf(0xD, 0).Ebx, j.GetProperty("sizes").GetProperty("standard").GetInt32());
    }

    [SkippableTheory]
    [InlineData("spr")]
    [InlineData("nehalem")]
    public void CatalogImport_RegeneratesTheEmbeddedProfile(string name)
    {
        Skip.If(RepoPaths.CpuidDumps is null, RepoPaths.NoDumps);
        Assert.True(CpuCatalog.TryGetEntry(name, out var e));
        var r = CliRunner.Run("catalog", "import", Path.Combine(RepoPaths.CpuidDumps!, e.Source), "--name", name, "--description", e.Description);
        Assert.True(r.ExitCode == 0, r.ToString());
        var file = Path.Combine(RepoPaths.Root, "src", "XsaveLab.Arch", "Profiles", name + ".cpuid");
        Assert.Equal(File.ReadAllText(file), r.Out);
    }
}
