namespace XsaveLab.Kernel.Tests.Uabi;

public class Ia32SigframeTests
{
    [Fact]
    public void Tag_word_conversions_round_trip_the_abridged_tag()
    {
        var rng = new Random(1);
        var fx = new byte[512];
        for (int n = 0; n < 500; n++)
        {
            rng.NextBytes(fx.AsSpan(0, 160));
            ushort abridged = (ushort)(fx[4]);
            uint full = FxsrConversions.TwdFxsrToI387(fx);
            Assert.Equal(0xFFFF0000u, full & 0xFFFF0000u);
            Assert.Equal(abridged, FxsrConversions.TwdI387ToFxsr(full));
        }
        // Empty registers are tagged 3; an all-zero register with its bit set is "zero" (1).
        fx.AsSpan().Clear();
        Assert.Equal(0xFFFFFFFFu, FxsrConversions.TwdFxsrToI387(fx));
        fx[4] = 0x01;
        Assert.Equal(0xFFFFFFFDu, FxsrConversions.TwdFxsrToI387(fx));
    }

    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Ia32_delivery_then_sigreturn_restores_the_state_except_what_the_fsave_header_cannot_hold(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        foreach (var (seed, rng, task) in UabiFixtures.RandomTasks(cfg, 30))
        {
            var expect = UabiFixtures.UserRegistersButPkru(cfg, task);
            // The 64-bit kernel's fsave header keeps fip/foo as 32 bits and puts the user CS where FOP would go
            // (so FOP comes back as CS >> 16 = 0); the upper byte of the abridged tag word is reserved.
            expect[5] = 0;
            expect.AsSpan(6, 2).Clear();
            expect.AsSpan(12, 4).Clear();
            expect.AsSpan(20, 4).Clear();
            var frame = new byte[Ia32Sigframes.FrameSize(task.Fpstate) + 16];
            rng.NextBytes(frame);
            Ia32Sigframes.CopyFpstateToSigframe(cfg, task, frame);
            Assert.Equal(Ia32Sigframes.X86FxsrMagic, BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(110)));
            Assert.Equal((uint)(task.Fpstate.UserSize + 4 + 112), BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(112 + 464 + 4)));
            Sigframes.ClearUserStates(cfg, task);
            var r = Ia32Sigframes.FpuRestoreSig(cfg, task, frame);
            Assert.True(r.Ok && !r.FxOnly, $"seed {seed}: {r.Rule}");
            Assert.Equal(UabiFixtures.Hex(expect), UabiFixtures.Hex(UabiFixtures.UserRegistersButPkru(cfg, task)));
        }
    }

    [SkippableFact]
    public void The_fsave_header_wins_over_the_fxsave_copy_and_bad_xsave_headers_fail()
    {
        var cfg = UabiFixtures.AnyConfig();
        var task = UabiFixtures.RandomTask(cfg, new Random(4), cfg.UserDefaultFeatures);
        var frame = new byte[Ia32Sigframes.FrameSize(task.Fpstate)];
        Ia32Sigframes.CopyFpstateToSigframe(cfg, task, frame);

        // A legacy program edits only the FSAVE control word: that edit is what the task gets back.
        var edited = (byte[])frame.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(edited, 0xFFFF0C7F);
        var t = task.Clone();
        Assert.True(Ia32Sigframes.FpuRestoreSig(cfg, t, edited).Ok);
        Assert.Equal(0x0C7F, BinaryPrimitives.ReadUInt16LittleEndian(t.Fpstate.Buffer));

        // copy_sigframe_from_user_to_xstate() rejects a reserved header byte: user state cleared, SIGSEGV.
        var bad = (byte[])frame.Clone();
        bad[112 + 530] = 1;
        t = task.Clone();
        var r = Ia32Sigframes.FpuRestoreSig(cfg, t, bad);
        Assert.True(r.Sigsegv, r.Rule);
        Assert.Equal(0UL, t.Fpstate.XstateBv & XFeatureMasks.UserRestore);

        // Wrong magic1: FX-only, extended state to init.
        var fxOnly = (byte[])frame.Clone();
        fxOnly[112 + 464] ^= 1;
        t = task.Clone();
        r = Ia32Sigframes.FpuRestoreSig(cfg, t, fxOnly);
        Assert.True(r.Ok && r.FxOnly, r.Rule);
        Assert.Equal(0UL, t.Fpstate.XstateBv & ~XFeatureMasks.FpSse & XFeatureMasks.UserSupported);
    }
}
