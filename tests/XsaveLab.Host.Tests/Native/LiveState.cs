namespace XsaveLab.Host.Tests.Native;

/// <summary>Compares the runtime's live state before and after a probe modulo what the rest of the system may
/// legitimately change in between, and retries a probe that an involuntary context switch interrupted.</summary>
/// <remarks>
/// When the thread is preempted (or the kernel uses the FPU in an interrupt), the kernel saves its registers with
/// XSAVES and puts them back with XRSTORS before returning to user mode (arch/x86/kernel/fpu/context.h
/// <c>fpregs_restore_userregs()</c>). On a processor that re-derives XINUSE from the register contents on XRSTOR
/// (the model's <c>XinUseTracking.CompareContents</c>), a component that was marked in use while holding its
/// initial values reads as not in use afterwards: same registers, one XSTATE_BV bit less. That, and only that, is
/// allowed: every register byte must still be equal, and an in-use bit may drop only for a component whose
/// contents were in their initial configuration at entry.
/// </remarks>
internal static class LiveState
{
    private const int XstateBvOffset = 512, MxcsrOffset = 24;
    private const int X87EnvEnd = 24, StStart = 32, StEnd = 160, XmmStart = 160, XmmEnd = 416;
    private const ushort InitFcw = 0x037F;
    private const uint InitMxcsr = 0x1F80;

    /// <summary>Components whose XINUSE bit may read 0 after a kernel XRSTORS although it read 1 at entry: those in
    /// use at entry whose registers held their initial values.</summary>
    public static ulong MayDropInUse(NativeXsave x, ReadOnlySpan<byte> entry)
    {
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(entry[XstateBvOffset..]) & x.Xcr0;
        ulong drop = 0;
        for (int i = 0; i < 63; i++)
            if ((bv >> i & 1) != 0 && IsInitial(x, entry, i))
                drop |= 1UL << i;
        return drop;
    }

    /// <summary>Null when <paramref name="exit"/> holds the same registers as <paramref name="entry"/> (both XSAVE64
    /// standard form, RFBM all ones) with at most the allowed in-use bits dropped; else what differs.</summary>
    public static string? Difference(NativeXsave x, ReadOnlySpan<byte> entry, ReadOnlySpan<byte> exit)
    {
        int n = x.StandardSize;
        ulong entryBv = BinaryPrimitives.ReadUInt64LittleEndian(entry[XstateBvOffset..]);
        ulong exitBv = BinaryPrimitives.ReadUInt64LittleEndian(exit[XstateBvOffset..]);
        ulong dropped = entryBv & ~exitBv, allowed = MayDropInUse(x, entry);
        if ((exitBv & ~entryBv) != 0 || (dropped & ~allowed) != 0)
            return $"XSTATE_BV 0x{entryBv:X} at entry, 0x{exitBv:X} at exit (may drop 0x{allowed:X})";
        // XSTATE_BV was compared above; a dropped component's area is not written by XSAVE (its bit is 0).
        var skip = new bool[n];
        skip.AsSpan(XstateBvOffset, sizeof(ulong)).Fill(true);
        for (int i = 0; i < 63; i++)
            if ((dropped >> i & 1) != 0)
                foreach (var (from, to) in Ranges(x, i))
                    skip.AsSpan(from, Math.Min(to, n) - from).Fill(true);
        for (int b = 0; b < n; b++)
            if (!skip[b] && entry[b] != exit[b])
                return $"byte {b}: 0x{entry[b]:X2} at entry, 0x{exit[b]:X2} at exit";
        return null;
    }

    /// <summary>Null when XGETBV(1) at exit equals XGETBV(1) at entry up to the allowed drops; else what differs.</summary>
    public static string? XinUseDifference(NativeXsave x, ReadOnlySpan<byte> entry, NativeProbeResult r)
    {
        ulong dropped = r.Xgetbv1AtEntry & ~r.Xgetbv1AtExit, allowed = MayDropInUse(x, entry);
        return (r.Xgetbv1AtExit & ~r.Xgetbv1AtEntry) != 0 || (dropped & ~allowed) != 0
            ? $"XGETBV(1) 0x{r.Xgetbv1AtEntry:X} at entry, 0x{r.Xgetbv1AtExit:X} at exit (may drop 0x{allowed:X})"
            : null;
    }

    /// <summary>Runs <paramref name="probe"/> until <paramref name="check"/> passes; a failure is retried (at most
    /// <paramref name="attempts"/> times in all) only when the thread was switched out involuntarily during the
    /// call, so a real corruption fails at once on an idle machine and on the last attempt on a busy one.</summary>
    public static void Holds(Func<NativeProbeResult> probe, Func<NativeProbeResult, string?> check, string what, int attempts = 5)
    {
        for (int attempt = 1; ; attempt++)
        {
            long before = InvoluntarySwitches();
            var r = probe();
            long switches = InvoluntarySwitches() - before;
            if (check(r) is not { } diff)
                return;
            if (switches == 0 || attempt >= attempts)
                Assert.Fail($"{what}: {diff} (attempt {attempt}, {switches} involuntary context switches during the call)");
        }
    }

    /// <summary>getrusage(RUSAGE_THREAD).ru_nivcsw of the calling thread.</summary>
    public static unsafe long InvoluntarySwitches()
    {
        Libc.RUsage u;
        return Libc.getrusage(Libc.RusageThread, &u) == 0 ? u.Nivcsw : 0;
    }

    private static IEnumerable<(int From, int To)> Ranges(NativeXsave x, int component)
    {
        switch (component)
        {
            case 0:
                yield return (0, X87EnvEnd);
                yield return (StStart, StEnd);
                break;
            case 1:
                yield return (XmmStart, XmmEnd);
                break;
            default:
                int off = x.StandardOffsetOf(component);
                if (off >= 0)
                    yield return (off, off + (int)X86Base.CpuId(0xD, component).Eax);
                break;
        }
    }

    /// <summary>SDM Vol.1 §13.6 initial configurations: x87 FCW 037FH and everything else zero; SSE XMM zero with
    /// MXCSR 1F80H; every other user component all zero.</summary>
    private static bool IsInitial(NativeXsave x, ReadOnlySpan<byte> image, int component)
    {
        if (component == 0 && BinaryPrimitives.ReadUInt16LittleEndian(image) != InitFcw)
            return false;
        if (component == 1 && BinaryPrimitives.ReadUInt32LittleEndian(image[MxcsrOffset..]) != InitMxcsr)
            return false;
        foreach (var (from, to) in Ranges(x, component))
            for (int b = component == 0 && from == 0 ? 2 : from; b < Math.Min(to, image.Length); b++)
                if (image[b] != 0)
                    return false;
        return true;
    }
}
