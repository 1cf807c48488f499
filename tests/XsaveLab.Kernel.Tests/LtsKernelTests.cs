namespace XsaveLab.Kernel.Tests;

/// <summary>The long-term kernels 6.1, 6.6 and 6.12 against public boot logs (<c>print_xstate_features()</c>,
/// <c>print_xstate_offset_size()</c> and the "Enabled xstate features" line of <c>fpu__init_system_xstate()</c>).</summary>
public class LtsKernelTests
{
    /// <summary>The x86/fpu lines from the first <c>xstate_offset</c> line through "Enabled xstate features".</summary>
    private static string[] OffsetsThroughEnabled(IEnumerable<string> dmesg, int firstComponent)
    {
        var l = dmesg.ToList();
        int from = l.FindIndex(s => s.StartsWith($"x86/fpu: xstate_offset[{firstComponent}]:", StringComparison.Ordinal));
        int to = l.FindIndex(s => s.StartsWith("x86/fpu: Enabled xstate features", StringComparison.Ordinal));
        Assert.True(from >= 0 && to >= from, string.Join("\n", l));
        return l.GetRange(from, to - from + 1).ToArray();
    }

    /// <summary>linux-surface issue #1637, an i5-1135G7 (Tiger Lake) on Debian's 6.1 ("LSM: Security Framework
    /// initializing" is the pre-6.2 wording): CET is in the CPU, but 6.1 knows no CET state.</summary>
    [Fact]
    public void Tiger_lake_on_6_1_matches_linux_surface_issue_1637()
    {
        string[] log =
        [
            "x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256",
            "x86/fpu: xstate_offset[5]:  832, xstate_sizes[5]:   64",
            "x86/fpu: xstate_offset[6]:  896, xstate_sizes[6]:  512",
            "x86/fpu: xstate_offset[7]: 1408, xstate_sizes[7]: 1024",
            "x86/fpu: xstate_offset[9]: 2432, xstate_sizes[9]:    8",
            "x86/fpu: Enabled xstate features 0x2e7, context size is 2440 bytes, using 'compacted' format.",
        ];
        var cpu = CpuCatalog.Get("tgl");
        Assert.True(cpu.Has(CpuFeature.Shstk), "tgl enumerates SHSTK");
        Assert.Equal(log, OffsetsThroughEnabled(FpuSystem.Boot(cpu, KernelVariants.V6_1).Dmesg, 2));
        // The neighbour adds CET_U: the same CPU on 6.6 is not this log.
        Assert.NotEqual(log, OffsetsThroughEnabled(FpuSystem.Boot(cpu, KernelVariants.V6_6).Dmesg, 2));
    }

    /// <summary>LACT issue #1180, a Ryzen 7 7700X (Zen 4 Raphael): CET_U in IA32_XSS, CET_KERNEL unused — what 6.6
    /// and 6.12 print alike.</summary>
    [Theory]
    [InlineData("6.6")]
    [InlineData("6.12")]
    public void Raphael_on_6_6_and_6_12_matches_lact_issue_1180(string kernel)
    {
        string[] log =
        [
            "x86/fpu: xstate_offset[5]:  832, xstate_sizes[5]:   64",
            "x86/fpu: xstate_offset[6]:  896, xstate_sizes[6]:  512",
            "x86/fpu: xstate_offset[7]: 1408, xstate_sizes[7]: 1024",
            "x86/fpu: xstate_offset[9]: 2432, xstate_sizes[9]:    8",
            "x86/fpu: xstate_offset[11]: 2440, xstate_sizes[11]:   16",
            "x86/fpu: Enabled xstate features 0xae7, context size is 2456 bytes, using 'compacted' format.",
        ];
        var sys = FpuSystem.Boot(CpuCatalog.Get("zen4-raphael"), KernelVariants.Get(kernel));
        Assert.Equal(log, OffsetsThroughEnabled(sys.Dmesg, 5));
        Assert.Contains("x86/fpu: Supporting XSAVE feature 0x800: 'Control-flow User registers'", sys.Dmesg);
        Assert.Equal(0UL, sys.KernelCfg.MaxFeatures & XFeatureMasks.CetKernel);
    }

    /// <summary>kdave/btrfs-progs issue #722 ("System not booting after update to 6.6.3",
    /// https://github.com/kdave/btrfs-progs/issues/722), the full dmesg posted on 16 Dec 2023 from "Linux version
    /// 6.6.7-zen1-1-zen" on a Ryzen 7 7800X3D ("family: 0x19, model: 0x61, stepping: 0x2", Zen 4 Raphael like the
    /// catalog's zen4-raphael): a log certainly of 6.6. Only its "signal: max sigframe size" line is pinned here;
    /// <c>init_sigframe_size()</c> derives it from fpu_user_cfg.max_size, so it would move if 6.6 put a supervisor
    /// component (CET_U) into the user layout. The x86/fpu block itself is pinned by LACT #1180 above.</summary>
    [Fact]
    public void Raphael_on_6_6_7_matches_the_sigframe_line_of_btrfs_progs_issue_722()
    {
        var cpu = CpuCatalog.Get("zen4-raphael");
        Assert.Equal((0x19, 0x61), (cpu.Family, cpu.Model));
        Assert.Contains("signal: max sigframe size: 3376", FpuSystem.Boot(cpu, KernelVariants.V6_6).Dmesg);
    }

    /// <summary>A Meteor Lake laptop (HP Spectre x360 16, Core Ultra) on 6.12.5 ("Linux version 6.12.5-ipu6"),
    /// posted to linux-media on 18 Dec 2024 ("IPU6 Camera with ov08x40 (OVTI08F4 sensor) HP Spectre 16" Meteor
    /// Lake doesn't work"), quoted-printable line breaks undone: CET_U in IA32_XSS, no CET_KERNEL line (unused
    /// before 6.17), and the whole x86/fpu block byte for byte.</summary>
    [Fact]
    public void Meteor_lake_on_6_12_matches_a_linux_media_boot_log()
    {
        string[] log =
        [
            "x86/fpu: Supporting XSAVE feature 0x001: 'x87 floating point registers'",
            "x86/fpu: Supporting XSAVE feature 0x002: 'SSE registers'",
            "x86/fpu: Supporting XSAVE feature 0x004: 'AVX registers'",
            "x86/fpu: Supporting XSAVE feature 0x200: 'Protection Keys User registers'",
            "x86/fpu: Supporting XSAVE feature 0x800: 'Control-flow User registers'",
            "x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256",
            "x86/fpu: xstate_offset[9]:  832, xstate_sizes[9]:    8",
            "x86/fpu: xstate_offset[11]:  840, xstate_sizes[11]:   16",
            "x86/fpu: Enabled xstate features 0xa07, context size is 856 bytes, using 'compacted' format.",
        ];
        var dmesg = FpuSystem.Boot(CpuCatalog.Get("mtl"), KernelVariants.V6_12).Dmesg.ToList();
        int from = dmesg.IndexOf(log[0]);
        Assert.True(from >= 0, string.Join("\n", dmesg));
        Assert.Equal(log, dmesg.Skip(from).Take(log.Length));
        // The same CPU on 6.17 supports CET_KERNEL for guests: not this log.
        Assert.DoesNotContain(log[^1], FpuSystem.Boot(CpuCatalog.Get("mtl"), KernelVariants.V6_17).Dmesg);
    }

    [Fact]
    public void Each_lts_kernel_differs_from_its_neighbour_by_cited_commits()
    {
        var order = new[] { KernelVariants.V6_1, KernelVariants.V6_6, KernelVariants.V6_12 };
        for (int i = 0; i + 1 < order.Length; i++)
        {
            var changed = order[i + 1].Differences.Except(order[i].Differences).ToList();
            Assert.NotEmpty(changed);
            Assert.All(changed, d => Assert.False(string.IsNullOrWhiteSpace(d.Source)));
        }
        Assert.False(KernelVariants.V6_1.CetUserSupported);
        Assert.Equal(XFeatureMasks.Pasid, KernelVariants.V6_1.SupervisorSupported);
        Assert.All(KernelVariants.Lts, v => Assert.False(v.StatePermPreservesNonUser));
        Assert.All(KernelVariants.Lts, v => Assert.True(v.FpuGuestHasPerm));
    }

    /// <summary>NT_X86_XSAVE_LAYOUT came with ba386777a30b (tip x86-fpu-2024-09-17, merged for 6.12): a core file of
    /// 6.1 or 6.6 has no such note, one of 6.12 or later has it with one record per extended user feature.</summary>
    [Theory]
    [InlineData("6.1", false)]
    [InlineData("6.6", false)]
    [InlineData("6.12", true)]
    [InlineData("6.17", true)]
    public void Only_6_12_and_later_write_the_xsave_layout_note(string kernel, bool written)
    {
        var cfg = XsaveLab.Kernel.Uabi.UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get("spr"), KernelVariants.Get(kernel)));
        var note = XsaveLab.Kernel.Uabi.CoreNotes.XsaveLayoutNote.Create(cfg);
        Assert.Equal(written, note is not null);
        if (note is not null)
            Assert.Equal(System.Numerics.BitOperations.PopCount(cfg.UserMaxFeatures & XFeatureMasks.Extend) * XsaveLab.Kernel.Uabi.CoreNotes.XfeatComponent.Sizeof, note.Desc.Length);
    }
}
