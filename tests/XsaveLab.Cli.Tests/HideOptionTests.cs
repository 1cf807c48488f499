namespace XsaveLab.Cli.Tests;

/// <summary><c>--hide</c> on the shared CPU options: the command sees the CPU <see cref="CpuidMasking.Hide"/>
/// makes, whatever the source of the CPU.</summary>
public class HideOptionTests
{
    private static JsonElement Json(params string[] args)
    {
        var r = CliRunner.Run([.. args, "--format", "json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.Out).RootElement.Clone();
    }

    [Fact]
    public void Boot_of_adl_with_avx512f_hidden_loses_the_avx512_components()
    {
        var plain = Json("boot", "--cpu", "adl");
        var hidden = Json("boot", "--cpu", "adl", "--hide", "avx512f");
        var sys = FpuSystem.Boot(CpuidMasking.Hide(CpuCatalog.Get("adl"), ["avx512f"]));
        Assert.Equal($"0x{sys.Xcr0:x}", hidden.GetProperty("xcr0").GetString());
        ulong plainXcr0 = Convert.ToUInt64(plain.GetProperty("xcr0").GetString(), 16);
        Assert.NotEqual(0UL, plainXcr0 & XFeatureMasks.Avx512);
        Assert.Equal(plainXcr0 & ~XFeatureMasks.Avx512, sys.Xcr0);
        // The compacted per-task buffer loses the AVX-512 components; the standard (user) size need not shrink,
        // as PKRU keeps its offset past them.
        int kernelSize = hidden.GetProperty("kernelCfg").GetProperty("defaultSize").GetInt32();
        Assert.Equal(sys.KernelCfg.DefaultSize, kernelSize);
        Assert.True(kernelSize < plain.GetProperty("kernelCfg").GetProperty("defaultSize").GetInt32());
        Assert.Equal(sys.UserCfg.MaxSize, hidden.GetProperty("userCfg").GetProperty("maxSize").GetInt32());
    }

    [Fact]
    public void Layout_of_spr_with_pku_hidden_has_no_pkru()
    {
        static int[] Numbers(JsonElement r) => [.. r.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("nr").GetInt32())];
        Assert.Contains(9, Numbers(Json("layout", "--cpu", "spr")));
        var hidden = Json("layout", "--cpu", "spr", "--hide", "pku");
        Assert.DoesNotContain(9, Numbers(hidden));
        Assert.Equal($"0x{CpuCatalog.Get("spr").SupportedXcr0 & ~XFeatureMasks.Pkru:x}", hidden.GetProperty("xcr0").GetString());
    }

    [Fact]
    public void Kvm_on_spr_with_shstk_hidden_offers_no_cet()
    {
        const uint cet = (uint)(XFeatureMasks.CetUser | XFeatureMasks.CetKernel);
        static uint Ecx1(JsonElement r) => Convert.ToUInt32(r.GetProperty("supportedCpuid").EnumerateArray()
            .Single(e => e.GetProperty("leaf").GetString() == "0xd" && e.GetProperty("subleaf").GetInt32() == 1)
            .GetProperty("ecx").GetString(), 16);
        Assert.Equal(cet, Ecx1(Json("kvm", "--cpu", "spr")) & cet);
        Assert.Equal(0u, Ecx1(Json("kvm", "--cpu", "spr", "--hide", "shstk")) & cet);
    }

    [Fact]
    public void A_dump_file_is_masked_like_a_catalog_cpu()
    {
        using var dir = new ScratchDirectory("hide");
        var file = Path.Combine(dir.Path, "spr.txt");
        File.WriteAllText(file, CpuidTextWriter.Write(CpuCatalog.Get("spr")));
        var fromFile = Json("layout", "--cpuid", file, "--hide", "avx512f,pku");
        var fromCatalog = Json("layout", "--cpu", "spr", "--hide", "avx512f,pku");
        Assert.Equal(fromCatalog.GetProperty("xcr0").GetString(), fromFile.GetProperty("xcr0").GetString());
        Assert.Equal(fromCatalog.GetProperty("xss").GetString(), fromFile.GetProperty("xss").GetString());
    }

    [Theory]
    [InlineData("avx1024")]
    [InlineData("avx512f,,pku")]
    public void Unknown_feature_names_are_one_error_line(string list)
    {
        var line = CliRunner.OneError(CliRunner.Run("layout", "--cpu", "spr", "--hide", list));
        Assert.StartsWith("error: --hide: unknown feature '", line);
        Assert.Contains("(known: ", line);
        Assert.Contains("avx512f", line);
    }
}
