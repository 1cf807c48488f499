namespace XsaveLab.Kernel.Tests.Uabi;

public class SigframeTests
{
    private const int Cases = 50;

    private static byte[] Deliver(UabiConfig cfg, UabiTask task, Random rng)
    {
        // Stack memory holds garbage before the frame is written.
        var frame = new byte[task.Fpstate.UserSize + 4 + 64];
        rng.NextBytes(frame);
        Sigframes.CopyFpstateToSigframe(cfg, task, frame);
        return frame;
    }

    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Frame_has_sw_bytes_magic2_and_fp_sse_forced(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        foreach (var (seed, rng, task) in UabiFixtures.RandomTasks(cfg, Cases))
        {
            var frame = Deliver(cfg, task, rng);
            var sw = FpxSwBytes.Read(frame);
            int us = task.Fpstate.UserSize;
            Assert.Equal(Sigframes.FpXstateMagic1, sw.Magic1);
            Assert.Equal((uint)(us + 4), sw.ExtendedSize);
            Assert.Equal(task.Fpstate.UserXfeatures, sw.Xfeatures);
            Assert.Equal((uint)us, sw.XstateSize);
            Assert.Equal(Sigframes.FpXstateMagic2, BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(us)));
            ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(512));
            Assert.Equal(XFeatureMasks.FpSse, bv & XFeatureMasks.FpSse);
            Assert.Equal(0UL, bv & ~task.Fpstate.UserXfeatures);
            Assert.True(frame.AsSpan(520, 56).IndexOfAnyExcept((byte)0) < 0, $"seed {seed}: header not cleared");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Delivery_then_sigreturn_restores_the_same_state(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        foreach (var (seed, rng, task) in UabiFixtures.RandomTasks(cfg, Cases))
        {
            var regs = UabiFixtures.UserRegisters(cfg, task);
            var sup = UabiFixtures.SupervisorBytes(cfg, task);
            uint pkru = task.Pkru;
            var frame = Deliver(cfg, task, rng);
            // The handler runs and clobbers user state; sigreturn must bring it back.
            Sigframes.ClearUserStates(cfg, task);
            var r = Sigframes.FpuRestoreSig(cfg, task, frame);
            Assert.True(r.Ok && !r.FxOnly, $"seed {seed}: {r.Rule}");
            Assert.Equal(UabiFixtures.Hex(regs), UabiFixtures.Hex(UabiFixtures.UserRegisters(cfg, task)));
            Assert.Equal(UabiFixtures.Hex(sup), UabiFixtures.Hex(UabiFixtures.SupervisorBytes(cfg, task)));
            Assert.Equal(pkru, task.Pkru);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Legacy_frames_restore_only_x87_and_sse(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        for (int seed = 0; seed < 20; seed++)
        {
            var rng = new Random(seed);
            var task = UabiFixtures.RandomTask(cfg, rng, inUse: UabiFixtures.Config(cpu)!.UserMaxFeatures & ~XFeatureMasks.Pkru);
            var frame = Deliver(cfg, task, rng);
            int us = task.Fpstate.UserSize;
            var bad1 = (byte[])frame.Clone();
            bad1[464] ^= 1; // magic1
            var bad2 = (byte[])frame.Clone();
            bad2[us] ^= 1; // magic2
            foreach (var bad in new[] { bad1, bad2 })
            {
                var t = task.Clone();
                Sigframes.ClearUserStates(cfg, t);
                var r = Sigframes.FpuRestoreSig(cfg, t, bad);
                Assert.True(r.Ok && r.FxOnly, $"seed {seed}: {r.Rule}");
                var img = UabiFixtures.UserRegisters(cfg, t);
                Assert.True(img.AsSpan(0, 416).SequenceEqual(frame.AsSpan(0, 416)), $"seed {seed}: legacy area not restored from the frame");
                foreach (int i in cfg.ExtendedInOrder(cfg.UserMaxFeatures))
                    Assert.True(img.AsSpan(cfg.StandardOffset(i), cfg.Size(i)).IndexOfAnyExcept((byte)0) < 0, $"seed {seed}: component {i} not in init state");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Bad_xsave_headers_fail_with_sigsegv_and_cleared_user_state(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        foreach (var (seed, rng, task) in UabiFixtures.RandomTasks(cfg, 20))
        {
            var frame = Deliver(cfg, task, rng);
            var notInXcr0 = (byte[])frame.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(notInXcr0.AsSpan(512), BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(512)) | 1UL << 62);
            var badXcomp = (byte[])frame.Clone();
            badXcomp[520] = 1; // XCOMP_BV != 0 without bit 63: header bytes 8..23 must be zero
            var badMxcsr = (byte[])frame.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(badMxcsr.AsSpan(24), 0xFFFFFFFF);
            foreach (var bad in new[] { notInXcr0, badXcomp, badMxcsr })
            {
                var t = task.Clone();
                var sup = UabiFixtures.SupervisorBytes(cfg, t);
                var r = Sigframes.FpuRestoreSig(cfg, t, bad);
                Assert.True(!r.Ok && r.Sigsegv, $"seed {seed}: {r.Rule}");
                var init = UabiFixtures.UserRegistersButPkru(cfg, new UabiTask(cfg.NewDefaultFpstate(), 0));
                Assert.Equal(UabiFixtures.Hex(init), UabiFixtures.Hex(UabiFixtures.UserRegistersButPkru(cfg, t)));
                Assert.Equal(cfg.OsPke ? UabiTask.InitPkruValue : task.Pkru, t.Pkru);
                Assert.Equal(UabiFixtures.Hex(sup), UabiFixtures.Hex(UabiFixtures.SupervisorBytes(cfg, t)));
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Max_frame_size_from_struct_layouts_matches_the_boot(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        foreach (bool ia32 in new[] { true, false })
        {
            var profile = cfg.Cpu;
            var sys = FpuSystem.Boot(profile, options: BootOptions.Default with { Ia32Emulation = ia32 });
            var c = UabiConfig.FromSystem(sys);
            Assert.Equal(sys.MaxFrameSize, SigframeSizes.MaxFrameSize(c));
            Assert.Equal(sys.FpuDefaultStateSize, SigframeSizes.FpuGetFpstateSize(c));
            Assert.Equal(0, SigframeSizes.MaxFrameSize(c) % SigframeSizes.FrameAlignment);
        }
    }

    [Fact]
    public void Frame_struct_sizes_follow_the_c_layout_rules()
    {
        // _fpx_sw_bytes carries a u64, which makes _fpstate_32 and sigframe_ia32 8-byte aligned.
        Assert.Equal(48, SigframeStructs.FpxSwBytes.Sizeof);
        Assert.Equal(464, SigframeStructs.Fpstate32.OffsetOf("sw_reserved") - 112);
        Assert.Equal(112 + 512, SigframeStructs.Fpstate32.Sizeof);
        Assert.Equal(8, SigframeStructs.SigframeIa32.Alignment);
        // What gcc's sizeof gives for the kernel's structs on x86-64 (checked with the uapi headers).
        Assert.Equal(736, SigframeStructs.SigframeIa32.Sizeof);
        Assert.Equal(440, SigframeStructs.RtSigframe.Sizeof);
        Assert.Equal(SigframeStructs.SigframeIa32.Sizeof, FpuSystem.SigframeBaseSize(true));
    }

    [Fact]
    public void Both_documented_user_sizes_give_the_same_AT_MINSIGSTKSZ_because_of_rounding()
    {
        // 736 + 15 + (u + 4 + 112) + 63 rounded up to 16: user sizes 2432 and 2440 fall in the same 16-byte step.
        int Frame(int userSize) => (SigframeStructs.SigframeIa32.Sizeof + SigframeSizes.MaxFramePadding + userSize
            + SigframeSizes.Magic2Size + Boot.FpuSystem.FregsStateSize + SigframeSizes.MaxXsavePadding + 15) / 16 * 16;
        Assert.Equal(Frame(2432), Frame(2440));
        Assert.NotEqual(Frame(2432), Frame(2432 + 16));
    }

    [SkippableFact]
    public void Alloc_mathframe_aligns_buf_fx_to_64_and_reserves_the_fsave_header_for_ia32()
    {
        var cfg = UabiFixtures.AnyConfig();
        var fps = cfg.NewDefaultFpstate();
        for (ulong sp = 0x7fff_0000_1000; sp < 0x7fff_0000_1000 + 200; sp += 7)
        {
            var (nsp, bufFx, size) = SigframeSizes.AllocMathframe(cfg, fps, sp, false);
            Assert.Equal(0UL, bufFx % 64);
            Assert.Equal(bufFx, nsp);
            Assert.True(bufFx + (ulong)size <= sp);
            var (sp32, bufFx32, size32) = SigframeSizes.AllocMathframe(cfg, fps, sp, true);
            Assert.Equal(bufFx, bufFx32);
            Assert.Equal(bufFx32 - 112, sp32);
            Assert.Equal(size + 112, size32);
        }
    }
}
