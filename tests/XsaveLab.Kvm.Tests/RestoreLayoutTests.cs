namespace XsaveLab.Kvm.Tests;

/// <summary>A snapshot restored onto another CPU: another layout is silent corruption, a dump file is a CPU, and a
/// script's <c>cpu</c> line is another host with upstream KVM.</summary>
public class RestoreLayoutTests
{
    private const string SaveOnIcx = """
        cpu icx
        KVM_GET_SUPPORTED_CPUID
        KVM_CREATE_VM
        KVM_CREATE_VCPU 0
        KVM_SET_CPUID2
        KVM_RUN guest: cr4.osxsave; xsetbv cpuid; write ymm
        save s
        """;

    [Fact]
    public void Icx_snapshot_restored_on_genoa_is_flagged_with_the_moved_components()
    {
        var r = KvmReport.Create(VmmScript.Parse(SaveOnIcx + "\nrestore s cpu=zen4-genoa\n", "t"), KvmSettings.For(CpuCatalog.Get("spr")), "t");
        Assert.False(r.Ok);
        var set = r.Steps.Single(s => s.Ioctl == "KVM_SET_XSAVE");
        Assert.True(set.Result.Ok); // KVM takes the bytes
        Assert.NotNull(set.Corruption);
        foreach (var name in new[] { "opmask", "ZMM_Hi256", "Hi16_ZMM", "PKRU" })
            Assert.Contains(name, set.Corruption);
        Assert.DoesNotContain("AVX:", set.Corruption); // YMM sits at 576 on both
        Assert.Contains("SILENT CORRUPTION", set.Text);
    }

    [Fact]
    public void Same_layout_restore_is_clean_and_a_dump_file_names_the_cpu()
    {
        var dir = Directory.CreateTempSubdirectory("xsavelab-restore-").FullName;
        try
        {
            string file = Path.Combine(dir, "icx-copy.txt");
            File.WriteAllText(file, CpuidTextWriter.Write(CpuCatalog.Get("icx")));
            var r = KvmReport.Create(VmmScript.Parse(SaveOnIcx + $"\nrestore s cpu={file}\n", "t"), KvmSettings.For(CpuCatalog.Get("spr")), "t");
            Assert.True(r.Ok, BuiltinScriptTests.Dump(r));
            Assert.All(r.Steps, s => Assert.Null(s.Corruption));
            Assert.True(r.Steps.Last().Result.Ok, BuiltinScriptTests.Dump(r));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("cpu spr\nKVM_GET_SUPPORTED_CPUID\n", "upstream")]
    [InlineData("cpu spr\nflavour pvm\nKVM_GET_SUPPORTED_CPUID\n", "pvm")]
    [InlineData("flavour pvm\ncpu spr\nKVM_GET_SUPPORTED_CPUID\n", "pvm")]
    public void A_cpu_line_means_upstream_kvm_unless_the_script_names_the_flavour(string script, string flavour)
    {
        var runner = VmmRunner.Run(VmmScript.Parse(script, "t"), KvmSettings.For(CpuCatalog.Get("zen4-genoa"), flavour: KvmFlavour.Pvm));
        Assert.Equal(flavour, runner.Settings.Flavour.Name);
    }

    [Fact]
    public void An_unreadable_cpu_file_is_a_script_error_naming_the_line()
    {
        var e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse("KVM_CREATE_VM\nsave s\nrestore s cpu=/nonexistent/x.txt\n", "t"));
        Assert.Equal(3, e.Line);
    }
}
