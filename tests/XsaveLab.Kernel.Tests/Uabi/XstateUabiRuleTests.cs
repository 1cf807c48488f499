namespace XsaveLab.Kernel.Tests.Uabi;

/// <summary>Single rules of __copy_xstate_to_uabi_buf / copy_uabi_to_xstate and the signal-frame paths.</summary>
public class XstateUabiRuleTests
{
    private static UabiConfig Spr() => UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get("spr")), 0x0000FFFF);

    /// <summary>An spr task with no component in use (registers drawn from <paramref name="seed"/>) and its
    /// NT_X86_XSTATE image.</summary>
    private static (UabiConfig Cfg, UabiTask Task, byte[] Image) InitStateImage(int seed)
    {
        var cfg = Spr();
        var task = UabiRandom.Task(cfg, new Random(seed), 0);
        return (cfg, task, PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data);
    }

    [Fact]
    public void Fp_mode_copies_only_x87_and_leaves_mxcsr_and_xmm_at_init()
    {
        var cfg = Spr();
        var task = UabiRandom.Task(cfg, new Random(1), cfg.UserDefaultFeatures);
        var fp = new byte[512];
        XstateUabi.CopyXstateToUabiBuf(cfg, task, XstateCopyMode.Fp, fp);
        Assert.Equal(task.Fpstate.Buffer.AsSpan(0, 24).ToArray(), fp.AsSpan(0, 24).ToArray());
        Assert.Equal(0x1F80u, BinaryPrimitives.ReadUInt32LittleEndian(fp.AsSpan(24)));
        Assert.True(fp.AsSpan(160, 256).IndexOfAnyExcept((byte)0) < 0);
    }

    [SkippableFact]
    public void Supervisor_state_never_leaks_and_survives_a_set()
    {
        var cfg = Spr();
        var task = UabiRandom.Task(cfg, new Random(2));
        Skip.If((task.Fpstate.Xfeatures & XFeatureMasks.CetUser) == 0, "no CET_USER in this configuration");
        Assert.NotEqual(0UL, task.Fpstate.XstateBv & XFeatureMasks.CetUser);
        var img = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512)) & ~XFeatureMasks.UserSupported);
        int cet = cfg.KernelOffset(task.Fpstate.XcompBv, (int)XFeature.CetUser);
        var before = task.Fpstate.Buffer.AsSpan(cet, 16).ToArray();
        Assert.True(PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, UabiRandom.XstateImage(cfg, 9)).Ok);
        Assert.NotEqual(0UL, task.Fpstate.XstateBv & XFeatureMasks.CetUser);
        Assert.Equal(before, task.Fpstate.Buffer.AsSpan(cet, 16).ToArray());
    }

    [SkippableFact]
    public void Pkru_comes_from_the_thread_value_and_an_image_without_pkru_sets_it_to_zero()
    {
        var cfg = Spr();
        Skip.IfNot(cfg.OsPke, "spr profile without OSPKE");
        var task = UabiRandom.Task(cfg, new Random(3), cfg.UserDefaultFeatures);
        task.Pkru = 0x12345674;
        task.Fpstate.XstateBv |= XFeatureMasks.Pkru; // the buffer's copy may be stale; thread.pkru wins
        var img = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        Assert.Equal(0x12345674u, BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(cfg.StandardOffset(9))));
        var noPkru = (byte[])img.Clone();
        noPkru[513] &= unchecked((byte)~0x02); // clear XSTATE_BV bit 9
        Assert.True(PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, noPkru).Ok);
        Assert.Equal(0u, task.Pkru);
        // KVM passes no PKRU pointer: the value is left alone.
        uint vpkru = 0xAAAA0000;
        Assert.True(XstateUabi.CopyUabiToXstate(cfg, task.Fpstate, noPkru, ref vpkru, updatePkru: false).Ok);
        Assert.Equal(0xAAAA0000u, vpkru);
    }

    [Fact]
    public void Mxcsr_is_only_validated_when_fp_sse_or_ymm_is_present()
    {
        var (cfg, task, img) = InitStateImage(4);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(24), 0xFFFFFFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), XFeatureMasks.Opmask);
        Assert.True(PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, img).Ok);
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), XFeatureMasks.Ymm);
        Assert.Equal(Errno.EINVAL, PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, img).Errno);
    }

    [Fact]
    public void Ymm_without_fp_stores_mxcsr_directly()
    {
        var (cfg, task, img) = InitStateImage(5);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(24), 0x9FC0);
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), XFeatureMasks.Ymm);
        Assert.True(PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, img).Ok);
        Assert.Equal(0x9FC0u, BinaryPrimitives.ReadUInt32LittleEndian(task.Fpstate.Buffer.AsSpan(24)));
        var back = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        Assert.Equal(0x9FC0u, BinaryPrimitives.ReadUInt32LittleEndian(back.AsSpan(24)));
    }

    [Fact]
    public void Short_get_returns_a_prefix_of_the_image()
    {
        var cfg = Spr();
        var task = UabiRandom.Task(cfg, new Random(6));
        var full = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        var part = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, 512);
        Assert.Equal(512, part.IovLen);
        Assert.Equal(full.AsSpan(0, 512).ToArray(), part.Data);
        Assert.Equal(Errno.EINVAL, PtraceRegsets.Get(cfg, task, NoteType.NtX86Shstk, 8).Errno);
    }

    [Fact]
    public void Sigframe_rejections_and_fallbacks()
    {
        var cfg = Spr();
        var task = UabiRandom.Task(cfg, new Random(7), cfg.UserDefaultFeatures);
        var frame = new byte[task.Fpstate.UserSize + 4];
        Sigframes.CopyFpstateToSigframe(cfg, task, frame);

        // xstate_size beyond the task's user_size: legacy FX-only frame.
        var big = (byte[])frame.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(big.AsSpan(464 + 16), (uint)task.Fpstate.UserSize + 64);
        var r = Sigframes.FpuRestoreSig(cfg, task.Clone(), big);
        Assert.True(r.Ok && r.FxOnly, r.Rule);

        // A frame shorter than user_size + 4 fails access_ok(): SIGSEGV.
        r = Sigframes.FpuRestoreSig(cfg, task.Clone(), frame[..^8]);
        Assert.True(r.Sigsegv, r.Rule);

        // NULL fpstate pointer: user states reset, success.
        var t = task.Clone();
        r = Sigframes.FpuRestoreSig(cfg, t, null);
        Assert.True(r.Ok);
        Assert.Equal(0UL, t.Fpstate.XstateBv & XFeatureMasks.UserRestore);

        // Reserved header bytes past byte 23 are not checked by a standard-form XRSTOR.
        var hi = (byte[])frame.Clone();
        hi[512 + 40] = 1;
        Assert.True(Sigframes.FpuRestoreSig(cfg, task.Clone(), hi).Ok);
    }

    [SkippableFact]
    public void Amx_tile_data_is_written_to_frames_only_when_in_use()
    {
        var cpu = CpuCatalog.Get("spr");
        var sys = FpuSystem.Boot(cpu);
        Skip.If((sys.UserCfg.MaxFeatures & XFeatureMasks.XtileData) == 0, "spr profile without AMX");
        var cfg = UabiConfig.FromSystem(sys);
        // A task that was granted AMX and reallocated its fpstate (fpstate_realloc()).
        var fps = FpState.Detached(FpStateShape.Reset(sys, guest: false).Realloc(sys, sys.KernelCfg.MaxFeatures & XFeatureMasks.UserDynamic));
        Assert.Equal(cfg.UserMaxFeatures, fps.UserXfeatures);
        var regs = fps.Buffer;
        cfg.InitFpstate.AsSpan(0, 576).CopyTo(regs);
        BinaryPrimitives.WriteUInt64LittleEndian(regs.AsSpan(520), fps.Xfeatures | XFeatureMasks.CompactedFormat);
        var task = new UabiTask(fps, 0);
        Assert.Equal(0UL, Sigframes.SigframeRfbm(cfg, fps) & XFeatureMasks.XtileData);
        var frame = new byte[fps.UserSize + 4];
        frame.AsSpan().Fill(0xEE);
        Sigframes.CopyFpstateToSigframe(cfg, task, frame);
        int td = cfg.StandardOffset((int)XFeature.XtileData);
        Assert.True(frame.AsSpan(td, 8192).IndexOfAnyExcept((byte)0xEE) < 0, "tile data written although not in use");
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(512)) & XFeatureMasks.XtileData);
        // Tile data in use: written.
        fps.XstateBv |= XFeatureMasks.XtileData | XFeatureMasks.XtileCfg;
        regs.AsSpan(cfg.KernelOffset(fps.XcompBv, (int)XFeature.XtileData), 8192).Fill(0x5A);
        Assert.NotEqual(0UL, Sigframes.SigframeRfbm(cfg, fps) & XFeatureMasks.XtileData);
        Sigframes.CopyFpstateToSigframe(cfg, task, frame);
        Assert.True(frame.AsSpan(td, 8192).IndexOfAnyExcept((byte)0x5A) < 0);
    }
}

public class CompactedFrameTests
{
    [SkippableFact]
    public void A_frame_rewritten_in_compacted_form_is_restored_from_compacted_offsets()
    {
        // The 64-bit sigreturn path hands the frame to XRSTOR without looking at XCOMP_BV: with bit 63 set and
        // XSAVEC available, XRSTOR reads the compacted form (SDM Vol.1 §13.8.2).
        var cpu = CpuCatalog.All.FirstOrDefault(p => p.HasXsavec && (p.SupportedXcr0 & XFeatureMasks.Mpx) != 0 && (p.SupportedXcr0 & XFeatureMasks.Avx512) != 0);
        Skip.If(cpu is null, "catalog lacks an XSAVEC CPU with MPX and AVX-512 (where the two forms differ)");
        var cfg = UabiConfig.FromSystem(FpuSystem.Boot(cpu!));
        var task = UabiRandom.Task(cfg, new Random(12), cfg.UserDefaultFeatures);
        var regs = UabiFixtures.UserRegisters(cfg, task);
        var frame = new byte[task.Fpstate.UserSize + 4];
        Sigframes.CopyFpstateToSigframe(cfg, task, frame);
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(512));
        ulong xcomp = cfg.UserMaxFeatures | XFeatureMasks.CompactedFormat;
        var compacted = (byte[])frame.Clone();
        compacted.AsSpan(576, compacted.Length - 576 - 4).Clear();
        bool moved = false;
        foreach (int i in cfg.ExtendedInOrder(cfg.UserMaxFeatures))
        {
            int std = cfg.StandardOffset(i), cmp = XsaveLab.Arch.Layout.XStateGeometry.Offset(cfg.Cpu, xcomp, i, true);
            frame.AsSpan(std, cfg.Size(i)).CopyTo(compacted.AsSpan(cmp));
            moved |= std != cmp && (bv >> i & 1) != 0;
        }
        Skip.IfNot(moved, "no in-use component moves between the forms");
        BinaryPrimitives.WriteUInt64LittleEndian(compacted.AsSpan(520), xcomp);
        Sigframes.ClearUserStates(cfg, task);
        var r = Sigframes.FpuRestoreSig(cfg, task, compacted);
        Assert.True(r.Ok, r.Rule);
        Assert.Equal(UabiFixtures.Hex(regs), UabiFixtures.Hex(UabiFixtures.UserRegisters(cfg, task)));
    }
}
