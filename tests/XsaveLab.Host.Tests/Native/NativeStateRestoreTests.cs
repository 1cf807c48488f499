using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>Every probe puts the runtime's register state and XINUSE back: byte for byte, up to what a preemption
/// legitimately changes (<see cref="LiveState"/>).</summary>
public class NativeStateRestoreTests
{
    /// <summary>Both are XSAVE64 with RFBM all ones of the live state: entry before anything, exit after the restore.</summary>
    private static string? Restored(NativeXsave x, NativeProbeResult r) =>
        LiveState.Difference(x, x.EntryState, x.ExitState)
        ?? (x.HasXgetbv1 ? LiveState.XinUseDifference(x, x.EntryState, r) : null);

    private static void AssertRestored(NativeXsave x, Func<NativeProbeResult> probe, string what) =>
        LiveState.Holds(probe, r => Restored(x, r), what);

    [SkippableFact]
    public void EveryProbeAndLoopRestoresTheLiveStateByteForByte()
    {
        using var x = NativeHarness.Open(captureExitState: true);
        var cpu = HostCpuidProfile.Read();
        var image = Known(x, cpu, 11);
        var a = Filled(x.AreaSize);
        var b = Filled(x.AreaSize);
        foreach (var kind in Enum.GetValues<SaveInstruction>().Where(x.Supports))
        {
            AssertRestored(x, () => x.Probe(kind, image, x.Xcr0, x.Xcr0, a), $"Probe {kind}");
            foreach (var kind2 in Enum.GetValues<SaveInstruction>().Where(x.Supports))
                AssertRestored(x, () => x.ProbeRoundTrip(kind, image, x.Xcr0, x.Xcr0, a, x.RestoreMaskWithoutPkru, kind2, x.Xcr0, b), $"ProbeRoundTrip {kind} then {kind2}");
            AssertRestored(x, () => x.RunPairs(kind, x.Xcr0, 100, image), $"RunPairs {kind}");
            AssertRestored(x, () => x.RunSaves(kind, x.Xcr0, 100, image), $"RunSaves {kind}");
        }
        AssertRestored(x, () => x.RunRestores(x.Xcr0, 100, image), "RunRestores");
        if (x.HasXsaveopt)
            AssertRestored(x, () => x.ProbeXsaveoptTwice(image, x.Xcr0, x.Xcr0, Filled(x.AreaSize), a, b), "ProbeXsaveoptTwice");
    }

    [SkippableFact]
    public void TheComparisonCatchesACorruptedStateAndAllowsOnlyAnInitialComponentToLeaveUse()
    {
        using var x = NativeHarness.Open(captureExitState: true);
        var image = Known(x, HostCpuidProfile.Read(), 13);
        var r = x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, Filled(x.AreaSize));
        var entry = x.EntryState[..x.StandardSize].ToArray();
        Assert.Null(LiveState.Difference(x, entry, entry));

        // One register byte changed (XMM0): caught.
        var xmm = entry.ToArray();
        xmm[XsaveOffsets.XmmSpace] ^= 0x5A;
        Assert.NotNull(LiveState.Difference(x, entry, xmm));
        // MXCSR changed: caught.
        var mxcsr = entry.ToArray();
        mxcsr[XsaveOffsets.Mxcsr] ^= 0x01;
        Assert.NotNull(LiveState.Difference(x, entry, mxcsr));
        // A component gaining an in-use bit: caught.
        int avxOffset = x.StandardOffsetOf(2);
        Skip.If(avxOffset < 0, "XCR0 has no AVX: no YMM component to corrupt");
        var noYmm = entry.ToArray();
        noYmm[XsaveOffsets.XstateBv] &= unchecked((byte)~4);
        var ymmSet = entry.ToArray();
        ymmSet[XsaveOffsets.XstateBv] |= 4;
        Assert.NotNull(LiveState.Difference(x, noYmm, ymmSet));
        // YMM in use with non-zero upper halves, then not in use: caught.
        var ymmValue = entry.ToArray();
        ymmValue[XsaveOffsets.XstateBv] |= 4;
        ymmValue[avxOffset] = 0x77;
        var ymmDropped = ymmValue.ToArray();
        ymmDropped[XsaveOffsets.XstateBv] &= unchecked((byte)~4);
        Assert.NotNull(LiveState.Difference(x, ymmValue, ymmDropped));
        Assert.NotNull(LiveState.XinUseDifference(x, ymmValue, r with { Xgetbv1AtEntry = x.Xcr0 & 7, Xgetbv1AtExit = x.Xcr0 & 3 }));
        // YMM in use holding zeros, then not in use (what XRSTOR's re-derivation does): allowed, whatever the
        // dropped component's stale area holds.
        var ymmZero = entry.ToArray();
        ymmZero[XsaveOffsets.XstateBv] |= 4;
        ymmZero.AsSpan(avxOffset, 256).Clear();
        var ymmZeroDropped = ymmZero.ToArray();
        ymmZeroDropped[XsaveOffsets.XstateBv] &= unchecked((byte)~4);
        ymmZeroDropped[avxOffset] = 0xEE;
        Assert.Null(LiveState.Difference(x, ymmZero, ymmZeroDropped));
        Assert.Null(LiveState.XinUseDifference(x, ymmZero, r with { Xgetbv1AtEntry = x.Xcr0 & 7, Xgetbv1AtExit = x.Xcr0 & 3 }));
    }

    [SkippableFact]
    public void TheThreadsXinUseIsUnchangedAfterManyProbes()
    {
        using var x = NativeHarness.Open(h => h.HasXgetbv1, "XGETBV1 is not enumerated");
        var image = Known(x, HostCpuidProfile.Read(), 12);
        var output = Filled(x.AreaSize);
        LiveState.Holds(() => x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, output), r => LiveState.XinUseDifference(x, x.EntryState, r), "first probe");
        for (int i = 0; i < 1000; i++)
            x.Probe((SaveInstruction)(i % 3) is var k && x.Supports(k) ? k : SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, output);
        // The image makes every component in use inside the probe; outside it the runtime's own bits rule.
        LiveState.Holds(() => x.Probe(SaveInstruction.Xsave, image, x.Xcr0, x.Xcr0, output),
            r => r.Xgetbv1AfterRestore != x.RestorableComponents
                ? $"XGETBV(1) after the restore 0x{r.Xgetbv1AfterRestore:X}, expected 0x{x.RestorableComponents:X}"
                : LiveState.XinUseDifference(x, x.EntryState, r), "last probe");
    }
}
