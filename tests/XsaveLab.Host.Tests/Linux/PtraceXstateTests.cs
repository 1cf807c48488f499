namespace XsaveLab.Host.Tests.Linux;

/// <summary>NT_X86_XSTATE through ptrace on a stopped /bin/sleep (arch/x86/kernel/fpu/regset.c <c>xstateregs_get/set()</c>).</summary>
public class PtraceXstateTests
{
    private static TracedChild SpawnSleeper()
    {
        HostFacts.SkipUnlessXsaveLinux();
        Skip.IfNot(File.Exists("/bin/sleep"), "no /bin/sleep");
        try
        {
            return TracedChild.Spawn("/bin/sleep", ["30"]);
        }
        catch (HostProbeException e)
        {
            Skip.If(true, $"cannot trace a child here: {e.Message}");
            throw;
        }
    }

    private static ulong U64(byte[] b, int off) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(off));

    [SkippableFact]
    public void Getregset_returns_the_standard_format_user_image()
    {
        using var child = SpawnSleeper();
        var r = child.GetRegset(NoteType.NtX86Xstate);
        Assert.True(r.Ok, r.ToString());
        ulong supp = LiveArchPrctl.GetSupported().Value;
        Assert.Equal(HostFacts.CpuidEnabledSize, r.Length);
        Assert.Equal(UserXstateLayout.FromHost().Size, r.Length);
        Assert.Equal(0UL, U64(r.Data, 520)); // XCOMP_BV: standard format
        Assert.All(r.Data[528..576], b => Assert.Equal(0, b));
        Assert.Equal(supp, U64(r.Data, 464)); // xstate_fx_sw_bytes: user max features (== XCR0 & user)
        Assert.All(r.Data[472..512], b => Assert.Equal(0, b));
        ulong xstateBv = U64(r.Data, 512);
        Assert.True(XFeatureMasks.IsSubset(xstateBv, supp), $"XSTATE_BV 0x{xstateBv:X} outside 0x{supp:X}");
    }

    [SkippableFact]
    public void Getregset_offered_a_small_buffer_copies_only_that_much()
    {
        using var child = SpawnSleeper();
        var r = child.GetRegset(NoteType.NtX86Xstate, 512);
        Assert.True(r.Ok, r.ToString());
        Assert.Equal(512, r.Length);
    }

    [SkippableFact]
    public void Prfpreg_is_the_legacy_area_of_the_xstate_image()
    {
        using var child = SpawnSleeper();
        var x = child.GetRegset(NoteType.NtX86Xstate);
        var f = child.GetRegset(NoteType.NtPrfpreg);
        Assert.True(f.Ok, f.ToString());
        Assert.Equal(512, f.Length);
        Assert.Equal(x.Data[..416], f.Data[..416]);
        Assert.All(f.Data[416..512], b => Assert.Equal(0, b));
    }

    [SkippableFact]
    public void Setregset_round_trip_is_the_identity_and_writes_registers()
    {
        using var child = SpawnSleeper();
        var layout = UserXstateLayout.FromHost();
        var orig = child.GetRegset(NoteType.NtX86Xstate).Data;

        var same = child.SetRegset(NoteType.NtX86Xstate, orig);
        Assert.True(same.Ok, same.ToString());
        Assert.Equal(orig, child.GetRegset(NoteType.NtX86Xstate).Data);

        var img = (byte[])orig.Clone();
        var rng = new Random(12345);
        rng.NextBytes(img.AsSpan(160, 256)); // XMM0-15
        ulong bv = U64(img, 512) | XFeatureMasks.Sse;
        if (layout.Has(2))
        {
            var (off, size) = layout.Component(2);
            rng.NextBytes(img.AsSpan(off, size));
            bv |= XFeatureMasks.Ymm;
        }
        if (layout.Has(5))
        {
            var (off, size) = layout.Component(5);
            rng.NextBytes(img.AsSpan(off, size));
            bv |= XFeatureMasks.Opmask;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), bv);
        var set = child.SetRegset(NoteType.NtX86Xstate, img);
        Assert.True(set.Ok, set.ToString());
        var back = child.GetRegset(NoteType.NtX86Xstate).Data;
        Assert.Equal(Convert.ToHexString(img), Convert.ToHexString(back));
    }

    /// <summary>get → set(seeded image) → get: the kernel stores exactly the registers written, for random
    /// values in every loadable user component of this host; PKRU is kept at the child's value.</summary>
    [SkippableFact]
    public void Setregset_of_200_seeded_images_reads_back_identically()
    {
        using var child = SpawnSleeper();
        var layout = UserXstateLayout.FromHost();
        var live = child.GetRegset(NoteType.NtX86Xstate).Data;
        for (ulong seed = 0; seed < 200; seed++)
        {
            var expected = SeededXstateImage.Build(0xA11CE + seed, layout);
            var img = (byte[])expected.Image.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(464), layout.Features);
            if (layout.Has(9))
            {
                var (off, size) = layout.Component(9);
                live.AsSpan(off, size).CopyTo(img.AsSpan(off));
                BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), U64(img, 512) | (U64(live, 512) & XFeatureMasks.Pkru));
            }
            var set = child.SetRegset(NoteType.NtX86Xstate, img);
            Assert.True(set.Ok, $"seed {0xA11CE + seed}: {set}");
            var diffs = expected.CompareWith(child.GetRegset(NoteType.NtX86Xstate).Data);
            Assert.True(diffs.Count == 0, $"seed {0xA11CE + seed}:\n{string.Join("\n", diffs)}");
        }
    }

    public static TheoryData<string> MalformedCases => new()
    {
        "compacted XCOMP_BV", "supervisor bit CET_U in XSTATE_BV", "unsupported bit in XSTATE_BV",
        "reserved header byte 530", "reserved MXCSR bits", "short buffer (512)",
    };

    /// <summary>validate_user_xstate_header(), the MXCSR check of copy_uabi_to_xstate() and
    /// xstateregs_set()'s exact-size rule; a rejected image changes nothing.</summary>
    [SkippableTheory]
    [MemberData(nameof(MalformedCases))]
    public void Malformed_setregset_is_rejected_with_the_kernels_errno_and_changes_nothing(string kind)
    {
        using var child = SpawnSleeper();
        ulong supp = LiveArchPrctl.GetSupported().Value;
        var orig = child.GetRegset(NoteType.NtX86Xstate).Data;
        var img = (byte[])orig.Clone();
        ulong bv = U64(img, 512);
        int len = img.Length, expected = (int)Errno.EINVAL;
        switch (kind)
        {
            case "compacted XCOMP_BV":
                BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(520), XFeatureMasks.CompactedFormat | bv);
                break;
            case "supervisor bit CET_U in XSTATE_BV":
                BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), bv | XFeatureMasks.CetUser);
                break;
            case "unsupported bit in XSTATE_BV":
                int missing = Enumerable.Range(2, 62).First(i => (supp >> i & 1) == 0 && (XFeatureMasks.UserSupported >> i & 1) != 0 || i == 63);
                BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), bv | 1UL << missing);
                break;
            case "reserved header byte 530":
                img[530] = 1;
                break;
            case "reserved MXCSR bits":
                BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), bv | XFeatureMasks.Sse);
                BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(24), 0xFFFFFFFF);
                break;
            case "short buffer (512)":
                len = 512;
                expected = (int)Errno.EFAULT;
                break;
        }
        var r = child.SetRegset(NoteType.NtX86Xstate, img, len);
        Assert.Equal(-1, r.Ret);
        Assert.Equal(ErrnoNames.Name(expected), ErrnoNames.Name(r.Errno));
        Assert.Equal(orig, child.GetRegset(NoteType.NtX86Xstate).Data);
    }

    [SkippableFact]
    public void Setregset_with_a_longer_iov_is_clamped_to_the_regset_size()
    {
        using var child = SpawnSleeper();
        var orig = child.GetRegset(NoteType.NtX86Xstate).Data;
        var r = child.SetRegset(NoteType.NtX86Xstate, orig, orig.Length + 4096);
        Assert.True(r.Ok, r.ToString());
        Assert.Equal(orig, child.GetRegset(NoteType.NtX86Xstate).Data);
    }

    [SkippableFact]
    public void Ptrace_from_another_thread_is_refused()
    {
        using var child = SpawnSleeper();
        Exception? caught = null;
        var t = new Thread(() =>
        {
            try { child.GetRegset(NoteType.NtX86Xstate); }
            catch (Exception e) { caught = e; }
        });
        t.Start();
        t.Join();
        Assert.IsType<InvalidOperationException>(caught);
    }

    [SkippableFact]
    public unsafe void Dispose_kills_and_reaps_even_after_detach()
    {
        int pid;
        using (var child = SpawnSleeper())
        {
            pid = child.Pid;
            Assert.Equal(0, child.Detach());
        }
        // Reaped: no such child any more (ECHILD), and no such process (ESRCH).
        int st;
        Assert.Equal(-1, Libc.waitpid(pid, &st, Libc.WAll | Libc.WNoHang));
        Assert.Equal((int)Errno.ECHILD, Marshal.GetLastPInvokeError());
        Assert.Equal(-1, Libc.kill(pid, 0));
        Assert.Equal((int)Errno.ESRCH, Marshal.GetLastPInvokeError());
    }

    [SkippableFact]
    public void A_dedicated_thread_can_run_the_whole_sequence()
    {
        HostFacts.SkipUnlessXsaveLinux();
        LiveRegsetResult? result = null;
        Exception? caught = null;
        var t = new Thread(() =>
        {
            try
            {
                using var c = TracedChild.Spawn("/bin/sleep", ["30"]);
                result = c.GetRegset(NoteType.NtX86Xstate);
            }
            catch (Exception e) { caught = e; }
        });
        t.Start();
        t.Join();
        Skip.If(caught is HostProbeException, $"cannot trace: {caught?.Message}");
        Assert.Null(caught);
        Assert.True(result!.Ok);
    }

}
