namespace XsaveLab.Host.Tests.Native;

public class NativeXgetbvTests
{
    [SkippableFact]
    public void Xcr0EqualsWhatTheKernelReportsAsSupported()
    {
        Skip.IfNot(NativeXsave.IsSupported, NativeXsave.UnsupportedReason);
        var r = LiveArchPrctl.GetSupported();
        Skip.IfNot(r.Ok, $"arch_prctl(ARCH_GET_XCOMP_SUPP) failed with errno {r.Errno} (kernel before 5.16?)");
        ulong supp = r.Value;
        using var x = new NativeXsave();
        // fpu__init_cpu_xstate() programs XCR0 = fpu_user_cfg.max_features; ARCH_GET_XCOMP_SUPP returns
        // fpu_user_cfg.max_features | legacy_features (x87, SSE are always enabled).
        Assert.Equal($"0x{supp:X}", $"0x{x.Xgetbv(0):X}");
        Assert.Equal(x.Xcr0, x.Xgetbv(0));
    }

    [SkippableFact]
    public void Xcr0IsWithinCpuidAndItsStandardSizeIsCpuidEbx()
    {
        using var x = NativeHarness.Open();
        var (a, b, _, d) = X86Base.CpuId(0xD, 0);
        ulong supported = (uint)a | (ulong)(uint)d << 32;
        ulong xcr0 = x.Xgetbv(0);
        Assert.Equal(0UL, xcr0 & ~supported);
        Assert.Equal(3UL, xcr0 & 3); // x87 and SSE must be enabled for XCR0 to be valid at all
        // CPUID(0xD,0).EBX is "the size required by the features currently enabled in XCR0".
        var cpu = HostCpuidProfile.Read();
        Assert.Equal(b, XStateGeometry.Size(cpu, xcr0, compacted: false));
        Assert.Equal(b, x.StandardSize);
        Assert.Equal(XStateGeometry.Size(cpu, xcr0, compacted: true), x.CompactedSize);
    }

    [SkippableFact]
    public void Xgetbv1IsWithinXcr0AndIncludesThisProcesssLiveState()
    {
        using var x = NativeHarness.Open(h => h.HasXgetbv1, "XGETBV1 is not enumerated (CPUID(0xD,1).EAX[2] = 0)");
        ulong xcr0 = x.Xgetbv(0), inuse = x.Xgetbv(1);
        Assert.Equal(0UL, inuse & ~xcr0);
        // A live XSAVE stores XSTATE_BV[i] = XINUSE[i]; the in-call reading at entry must agree with it.
        var r = x.RunRestores(x.RestoreMaskWithoutPkru, 0, NativeTestImages.Known(x, HostCpuidProfile.Read(), 7));
        Assert.Equal($"0x{r.Xgetbv1AtEntry & xcr0:X}", $"0x{NativeTestImages.XstateBv(x.EntryState) & xcr0:X}");
    }

    [SkippableFact]
    public void XgetbvWithAnUndefinedRegisterIsRefusedNotExecuted()
    {
        using var x = NativeHarness.Open();
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Xgetbv(2));
        if (!x.HasXgetbv1)
            Assert.Throws<ArgumentOutOfRangeException>(() => x.Xgetbv(1));
    }
}
