namespace XsaveLab.Cli.Tests;

/// <summary><c>experiment cet-s</c>'s "memory" figures: the task_struct slab object behind the 24 bytes.</summary>
public sealed class ExperimentMemoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-memory-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string SlabDir = "/sys/kernel/slab/task_struct";

    /// <summary>With --host the figures come from this kernel's BTF; 6.17 (whose rules the running kernel follows)
    /// must give the object and stride /sys/kernel/slab shows.</summary>
    [SkippableFact]
    public void Host_json_has_memory_for_each_variant_matching_the_live_slab()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && X86Base.X64.IsSupported, "needs Linux on x86-64");
        Skip.IfNot(File.Exists("/sys/kernel/btf/vmlinux"), "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=n)");
        Skip.IfNot(File.Exists(Path.Combine(SlabDir, "object_size")), $"no {SlabDir} (SLUB sysfs)");
        var r = CliRunner.Run("experiment", "cet-s", "--host", "--no-measure", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var variants = doc.RootElement.GetProperty("variants").EnumerateArray().ToList();
        Assert.NotEmpty(variants);
        foreach (var v in variants)
        {
            var m = v.GetProperty("memory");
            foreach (var key in new[] { "taskStructObjectBytes", "taskStructSlabBytes", "realBytesSavedPerTask", "vcpuFpstatePages" })
                Assert.True(m.TryGetProperty(key, out var x) && x.ValueKind == JsonValueKind.Number, $"{key} in {m}");
        }
        var m17 = variants.Single(v => v.GetProperty("name").GetString() == "6.17").GetProperty("memory");
        Assert.Equal(int.Parse(File.ReadAllText(Path.Combine(SlabDir, "object_size")), CultureInfo.InvariantCulture), m17.GetProperty("taskStructObjectBytes").GetInt32());
        Assert.Equal(int.Parse(File.ReadAllText(Path.Combine(SlabDir, "slab_size")), CultureInfo.InvariantCulture), m17.GetProperty("taskStructSlabBytes").GetInt32());
        Assert.Equal(int.Parse(File.ReadAllText(Path.Combine(SlabDir, "objs_per_slab")), CultureInfo.InvariantCulture), m17.GetProperty("objectsPerSlab").GetInt32());
    }

    /// <summary>A task_struct size chosen so that case 3's 24 bytes take the object past the stride at which an
    /// order-3 slab holds five objects (5 × 6528 ≤ 32768 &lt; 5 × 6592): case 2 then saves whole slabs.</summary>
    [Fact]
    public void Given_sizes_where_24_bytes_cross_a_cache_line_save_whole_slabs()
    {
        var r = CliRunner.Run("experiment", "cet-s", "--cpu", "zen5-turin", "--no-measure", "--task-struct-size", "3940", "--fpu-struct-size", "4224", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var v = doc.RootElement.GetProperty("variants").EnumerateArray().ToDictionary(x => x.GetProperty("name").GetString()!, x => x.GetProperty("memory"));
        var (c2, c3) = (v["6.17"], v["case3"]);
        Assert.Equal(24, c2.GetProperty("fpstateBytesSavedPerTask").GetInt32());
        Assert.True(c3.GetProperty("objectsPerSlab").GetInt32() < c2.GetProperty("objectsPerSlab").GetInt32(), v["case3"].ToString());
        long slab = 4096L << c2.GetProperty("slabOrder").GetInt32();
        long saved = c2.GetProperty("realBytesSavedPer10000Tasks").GetInt64();
        Assert.True(saved > 0 && saved % slab == 0, $"{saved} B is not whole {slab}-byte slabs");
        Assert.True(c2.GetProperty("realBytesSavedPerTask").GetDouble() > 24);
        // The sweep says the same for this CPU.
        var row = doc.RootElement.GetProperty("sweep").EnumerateArray().Single(x => x.GetProperty("cpu").GetString() == "zen5-turin");
        Assert.Equal(c2.GetProperty("realBytesSavedPerTask").GetDouble(), row.GetProperty("realBytesSavedPerTask").GetDouble());
    }

    [Fact]
    public void Without_struct_sizes_there_are_no_memory_figures_and_a_note_says_why()
    {
        var r = CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.All(doc.RootElement.GetProperty("variants").EnumerateArray(), v => Assert.Equal(JsonValueKind.Null, v.GetProperty("memory").ValueKind));
        Assert.Contains(doc.RootElement.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("--task-struct-size", StringComparison.Ordinal));
    }

    [Fact]
    public void Bad_struct_size_inputs_are_one_error_naming_the_option_or_file()
    {
        string notBtf = Path.Combine(_dir, "vmlinux.btf");
        File.WriteAllText(notBtf, "not BTF at all, just text");
        Assert.Contains("vmlinux.btf: offset 0x0: magic", CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--btf", notBtf)));
        Assert.Contains("missing.btf", CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--btf", Path.Combine(_dir, "missing.btf"))));
        Assert.StartsWith("error: --fpu-struct-size:", CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--fpu-struct-size", "4224")));
        Assert.StartsWith("error: --task-struct-size:", CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--task-struct-size", "0")));
        Assert.StartsWith("error: --fpu-struct-size:", CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--task-struct-size", "3264", "--fpu-struct-size", "100")));
        Assert.StartsWith("error: --btf:", CliRunner.OneError(CliRunner.Run("experiment", "cet-s", "--cpu", "spr", "--no-measure", "--btf", notBtf, "--task-struct-size", "9000")));
    }
}
