using XsaveLab.Arch.Sanity;

namespace XsaveLab.Cli.Tests;

/// <summary><c>boot --as-guest</c> on a CPUID whose XSAVE features XSETBV refuses together: the guest kernel's
/// <c>fpu__init_cpu_xstate()</c> writes them to XCR0 before any size check and takes a #GP. The expected XCR0 is
/// the one the unedited CPU boots with, less the component the edit removes; that it breaks an XSETBV rule is
/// checked against <see cref="Xcr0Rules"/>, the rule list the boot itself does not use.</summary>
public class BootAsGuestFaultTests
{
    /// <summary><paramref name="cpu"/> with <paramref name="component"/> gone from CPUID(0xD,0) EDX:EAX and its
    /// sub-leaf removed, as a VMM template that drops one component of a group would present it; the CPUID
    /// feature bits of leaf 7 stay.</summary>
    private static CpuProfile Without(CpuProfile cpu, XFeature component)
    {
        ulong bit = 1UL << (int)component;
        return new CpuProfile(cpu.Name, $"{cpu.Name} without component {(int)component}", cpu.Leaves
            .Where(l => l.Leaf != 0xD || l.Subleaf != (uint)component)
            .Select(l => l.Leaf == 0xD && l.Subleaf == 0 ? l with { Eax = l.Eax & ~(uint)bit, Edx = l.Edx & ~(uint)(bit >> 32) } : l));
    }

    private static (int Code, JsonElement Json) AsGuest(CpuProfile guest, bool asGuest = true)
    {
        using var dir = new ScratchDirectory("asguest-gp");
        string file = dir.Write("guest.cpuid", CpuidTextWriter.Write(guest));
        var r = CliRunner.Run([.. "boot --cpuid".Split(' '), file, "--format", "json", .. asGuest ? ["--as-guest"] : Array.Empty<string>()]);
        Assert.True(r.ExitCode is 0 or 1, r.ToString());
        return (r.ExitCode, JsonDocument.Parse(r.Out).RootElement.Clone());
    }

    private static ulong Hex(JsonElement e, string name) => Convert.ToUInt64(e.GetProperty(name).GetString(), 16);

    private static void AssertStopsOnXsetbv(string cpuName, XFeature removed, string rule)
    {
        var cpu = CpuCatalog.Get(cpuName);
        // The XCR0 the unedited CPU boots with (sizes recomputed as hardware does).
        var (plainCode, plain) = AsGuest(cpu, asGuest: false);
        Assert.Equal(0, plainCode);
        ulong expected = Hex(plain, "xcr0") & ~(1UL << (int)removed);
        Assert.Contains(Xcr0Rules.Violations(expected), v => v.Code == rule);

        var (code, r) = AsGuest(Without(cpu, removed));
        Assert.Equal(1, code);
        string stopped = r.GetProperty("stopped").GetString()!;
        Assert.StartsWith($"#GP on XSETBV 0x{expected:x}: ", stopped, StringComparison.Ordinal);
        Assert.False(r.GetProperty("xsaveEnabled").GetBoolean());
        Assert.Equal("0x0", r.GetProperty("xcr0").GetString());
        var dmesg = r.GetProperty("dmesg").EnumerateArray().Select(x => x.GetString()!).ToList();
        // The oops replaces everything init_xstate_size() and later would print.
        Assert.Contains(dmesg, l => l.StartsWith("general protection fault: 0000 [#1]", StringComparison.Ordinal));
        Assert.Contains("Kernel panic - not syncing: Attempted to kill the idle task!", dmesg);
        Assert.DoesNotContain(dmesg, l => l.StartsWith("x86/fpu: Enabled xstate features", StringComparison.Ordinal)
            || l.StartsWith("signal: max sigframe size", StringComparison.Ordinal));
        Assert.Equal(expected, Hex(r, "lostFeatures") & expected);
    }

    [Fact]
    public void Avx512_template_without_hi16_zmm_faults_on_xsetbv() =>
        // avx512f still set: xsave_cpuid_features[] keeps opmask and ZMM_Hi256, XSETBV refuses the pair without Hi16_ZMM.
        AssertStopsOnXsetbv("icx", XFeature.Hi16Zmm, "XCR0_AVX512_PARTIAL");

    [Fact]
    public void Amx_template_with_tilecfg_but_no_tiledata_faults_on_xsetbv() =>
        AssertStopsOnXsetbv("spr", XFeature.XtileData, "XCR0_AMX_PAIR");

    [Fact]
    public void Text_output_says_the_boot_stopped_and_exits_1()
    {
        using var dir = new ScratchDirectory("asguest-gp");
        string file = dir.Write("guest.cpuid", CpuidTextWriter.Write(Without(CpuCatalog.Get("icx"), XFeature.Hi16Zmm)));
        var r = CliRunner.Run("boot", "--as-guest", "--cpuid", file);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Boot stopped: #GP on XSETBV 0x", r.Out, StringComparison.Ordinal);
        Assert.Contains("the guest kernel panics at boot", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_consistent_cpuid_boots_normally_as_a_guest()
    {
        // The whole AVX-512 group removed from 0xD.0 (avx512f still set) is a valid XCR0: no fault. Sizes are
        // recomputed for what is left, so the size check passes too; icx's only IA32_XSS component (PT) is one
        // Linux does not enable, so the compacted size is that of XCR0 alone.
        var icx = CpuCatalog.Get("icx");
        var edited = Without(Without(Without(icx, XFeature.Opmask), XFeature.ZmmHi256), XFeature.Hi16Zmm);
        int standard = XStateGeometry.Size(edited, edited.SupportedXcr0, compacted: false);
        int compacted = XStateGeometry.Size(edited, edited.SupportedXcr0, compacted: true);
        var guest = new CpuProfile(icx.Name, "icx without AVX-512 state", edited.Leaves.Select(l => l.Leaf != 0xD ? l
            : l.Subleaf == 0 ? l with { Ebx = (uint)standard, Ecx = (uint)standard }
            : l.Subleaf == 1 ? l with { Ebx = (uint)compacted } : l));
        Assert.True(Xcr0Rules.IsValid(guest.SupportedXcr0));
        var (code, r) = AsGuest(guest);
        Assert.Equal(0, code);
        Assert.Equal(JsonValueKind.Null, r.GetProperty("stopped").ValueKind);
        Assert.True(r.GetProperty("xsaveEnabled").GetBoolean());
        Assert.Equal(guest.SupportedXcr0 & Hex(AsGuest(icx, asGuest: false).Json, "xcr0"), Hex(r, "xcr0"));
    }
}
