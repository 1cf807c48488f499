namespace XsaveLab.Arch.Tests.Cpuid;

/// <summary><see cref="CpuidMasking.Hide"/> against the rules it applies: the dependency closure of
/// <see cref="CpuidFeatureDeps"/>, the component gates of <see cref="XFeatureTable"/>, and CPUID leaf 0xD as
/// hardware reports it for the components left.</summary>
public class CpuidMaskingTests
{
    private static bool Bit(CpuProfile p, CpuFeatureBit b)
    {
        var l = p.Leaf(b.Leaf, b.Subleaf);
        uint r = b.Register switch
        {
            CpuidRegister.Eax => l.Eax,
            CpuidRegister.Ebx => l.Ebx,
            CpuidRegister.Ecx => l.Ecx,
            _ => l.Edx,
        };
        return (r >> b.Bit & 1) != 0;
    }

    /// <summary>Components whose gate is among the cleared features.</summary>
    private static ulong GatedBy(IReadOnlySet<string> cleared)
    {
        var features = CpuidFeatureDeps.Features(cleared).ToHashSet();
        ulong m = 0;
        for (int i = 2; i < XFeatureTable.Count; i++)
            if (features.Contains(XFeatureTable.Get(i).Gate))
                m |= 1UL << i;
        return m;
    }

    private static void AssertOnlyClosureCleared(CpuProfile before, CpuProfile after, IReadOnlySet<string> cleared)
    {
        foreach (var b in CpuidFeatureDeps.Bits)
        {
            if (b.Bit.Leaf == 0xD)
                continue; // 0xD.1 EAX bits (XSAVEOPT…) are checked by the callers that clear them
            bool expected = !cleared.Contains(b.Name) && Bit(before, b.Bit);
            Assert.True(expected == Bit(after, b.Bit), $"{b.Name}: expected {(expected ? "set" : "clear")}");
        }
    }

    [Theory]
    [InlineData("spr")]
    [InlineData("adl")]
    [InlineData("zen4-genoa")]
    public void Hiding_avx512f_clears_the_avx512_family_and_its_components(string name)
    {
        var cpu = CpuCatalog.Get(name);
        var hidden = CpuidMasking.Hide(cpu, ["avx512f"]);
        var cleared = CpuidFeatureDeps.WithDependents(["avx512f"]);
        Assert.Contains("avx512vl", cleared);
        Assert.Contains("avx512_fp16", cleared); // via avx512bw
        AssertOnlyClosureCleared(cpu, hidden, cleared);

        ulong gone = GatedBy(cleared);
        Assert.Equal(XFeatureMasks.Avx512, gone & cpu.SupportedXcr0);
        Assert.Equal($"0x{cpu.SupportedXcr0 & ~gone:x}", $"0x{hidden.SupportedXcr0:x}");
        Assert.Equal(cpu.SupportedXss, hidden.SupportedXss);
        foreach (var n in new[] { 5u, 6u, 7u })
            Assert.DoesNotContain(hidden.Leaves, l => l.Leaf == 0xD && l.Subleaf == n);
        Assert.Equal(XStateGeometry.Size(hidden, hidden.SupportedXcr0, compacted: false), (int)hidden.Leaf(0xD).Ebx);
        Assert.Equal(XStateGeometry.Size(hidden, hidden.SupportedXcr0 | hidden.SupportedXss, compacted: true), (int)hidden.Leaf(0xD, 1).Ebx);
        // Standard offsets are fixed by the CPU: the components left keep theirs (a hidden hole stays a hole).
        foreach (var l in hidden.Leaves.Where(l => l.Leaf == 0xD && l.Subleaf >= 2))
            Assert.Equal(cpu.Leaf(0xD, l.Subleaf), l);
    }

    [Fact]
    public void Hiding_xsave_clears_every_xsave_dependent_feature_and_leaf_0xd()
    {
        var cpu = CpuCatalog.Get("spr");
        var hidden = CpuidMasking.Hide(cpu, ["xsave"]);
        var cleared = CpuidFeatureDeps.WithDependents(["xsave"]);
        foreach (var f in new[] { "avx", "avx2", "avx512f", "pku", "xsaves", "xsavec", "xsaveopt", "xfd", "amx_tile", "shstk", "enqcmd" })
            Assert.Contains(f, cleared);
        AssertOnlyClosureCleared(cpu, hidden, cleared);
        Assert.False(hidden.HasXsave);
        Assert.DoesNotContain(hidden.Leaves, l => l.Leaf == 0xD);
        Assert.True(Bit(hidden, CpuFeatureBits.Of(CpuFeature.Fxsr))); // xsave depends on fxsr, not the reverse
    }

    [Fact]
    public void Hiding_pku_removes_pkru_from_xcr0_support()
    {
        var cpu = CpuCatalog.Get("spr");
        Assert.NotEqual(0UL, cpu.SupportedXcr0 & XFeatureMasks.Pkru);
        var hidden = CpuidMasking.Hide(cpu, ["pku"]);
        var cleared = CpuidFeatureDeps.WithDependents(["pku"]);
        AssertOnlyClosureCleared(cpu, hidden, cleared);
        Assert.Equal($"0x{cpu.SupportedXcr0 & ~XFeatureMasks.Pkru:x}", $"0x{hidden.SupportedXcr0:x}");
        Assert.Equal(cpu.SupportedXss, hidden.SupportedXss);
    }

    [Theory]
    [InlineData("spr")]
    [InlineData("zen4-genoa")]
    public void Hiding_shstk_removes_cet_from_leaf_0xd_1_ecx(string name)
    {
        var cpu = CpuCatalog.Get(name);
        ulong cet = cpu.SupportedXss & GatedBy(new HashSet<string> { "shstk" });
        Assert.NotEqual(0UL, cet);
        var hidden = CpuidMasking.Hide(cpu, ["shstk"]);
        AssertOnlyClosureCleared(cpu, hidden, CpuidFeatureDeps.WithDependents(["shstk"]));
        Assert.Equal(0u, hidden.Leaf(0xD, 1).Ecx & (uint)cet);
        Assert.Equal($"0x{cpu.SupportedXss & ~cet:x}", $"0x{hidden.SupportedXss:x}");
        Assert.Equal(cpu.SupportedXcr0, hidden.SupportedXcr0);
        Assert.Equal(Bit(cpu, CpuFeatureBits.Of(CpuFeature.Ibt)), Bit(hidden, CpuFeatureBits.Of(CpuFeature.Ibt)));
    }

    [Fact]
    public void Hiding_xsaves_drops_every_supervisor_component()
    {
        var cpu = CpuCatalog.Get("spr");
        var hidden = CpuidMasking.Hide(cpu, ["xsaves"]);
        Assert.Equal(0UL, hidden.SupportedXss);
        Assert.False(hidden.HasXsaves);
        Assert.Equal(cpu.SupportedXcr0 & ~GatedBy(CpuidFeatureDeps.WithDependents(["xsaves"])), hidden.SupportedXcr0);
    }

    [Fact]
    public void Unknown_names_are_refused()
    {
        Assert.Throws<ArgumentException>(() => CpuidMasking.Hide(CpuCatalog.Get("spr"), ["avx1024"]));
    }

    [Fact]
    public void Every_dependency_pair_names_known_features()
    {
        foreach (var (f, dep) in CpuidFeatureDeps.Pairs)
        {
            Assert.NotNull(CpuidFeatureDeps.Find(f));
            Assert.NotNull(CpuidFeatureDeps.Find(dep));
        }
    }
}
