namespace XsaveLab.Kvm.Tests;

/// <summary>A script's <c>cpu NAME hide=F,…</c> line: the VMM runs on the CPU <see cref="CpuidMasking.Hide"/> makes.</summary>
public class ScriptCpuHideTests
{
    private static KvmSystem Run(string script)
    {
        var runner = VmmRunner.Run(VmmScript.Parse(script, "t"), KvmSettings.For(CpuCatalog.Get("zen4-genoa")));
        return runner.System!;
    }

    [Fact]
    public void Hiding_shstk_withholds_cet_from_kvm()
    {
        // spr enumerates CET_U and CET_S in CPUID(0xD,1).ECX and SHSTK in leaf 7: KVM offers both XSS bits.
        var plain = Run("cpu spr\nKVM_GET_SUPPORTED_CPUID\n");
        Assert.Equal(KvmCaps.CetAll, plain.Caps.SupportedXss & KvmCaps.CetAll);
        Assert.True(plain.Caps.Shstk);

        var hidden = Run("cpu spr hide=shstk\nKVM_GET_SUPPORTED_CPUID\n");
        Assert.False(hidden.Caps.Shstk);
        Assert.Equal(0UL, hidden.Caps.SupportedXss & KvmCaps.CetAll);
        // Everything else KVM offers is what it offers on the CPU --hide shstk makes.
        var expected = new KvmSystem(KvmSettings.For(CpuidMasking.Hide(CpuCatalog.Get("spr"), ["shstk"])));
        Assert.Equal(expected.Caps.SupportedXcr0, hidden.Caps.SupportedXcr0);
        Assert.Equal(expected.Caps.SupportedXss, hidden.Caps.SupportedXss);
    }

    [Theory]
    [InlineData("cpu spr hide=nosuchfeature\nKVM_CREATE_VM", 1, "unknown feature 'nosuchfeature'")]
    [InlineData("# host\ncpu spr hide=\nKVM_CREATE_VM", 2, "unknown feature ''")]
    [InlineData("cpu spr pku\nKVM_CREATE_VM", 1, "usage: cpu NAME|FILE [hide=")]
    public void Bad_hide_lists_are_errors_naming_the_line(string script, int line, string mentions)
    {
        var e = Assert.Throws<VmmScriptException>(() => VmmScript.Parse(script, "t"));
        Assert.Equal(line, e.Line);
        Assert.Contains(mentions, e.Message, StringComparison.Ordinal);
    }
}
