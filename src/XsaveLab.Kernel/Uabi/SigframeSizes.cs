namespace XsaveLab.Kernel.Uabi;

/// <summary>Signal-frame sizing: <c>fpu__get_fpstate_size()</c>, <c>init_sigframe_size()</c> (= AT_MINSIGSTKSZ)
/// and <c>fpu__alloc_mathframe()</c>.</summary>
/// <remarks>arch/x86/kernel/fpu/signal.c and arch/x86/kernel/signal.c. Worked example (derived, both machines):
/// sizeof(sigframe_ia32) = 736 (the _fpx_sw_bytes u64 makes _fpstate_32 8-aligned, padding the 732 bytes of
/// members to 736); with user max 2432: 736 + 15 + (2432 + 4 + 112) + 63 = 3362 → round_up 16 = 3376; with
/// 2440: 3370 → 3376. Both machines therefore report AT_MINSIGSTKSZ 3376.</remarks>
public static class SigframeSizes
{
    /// <summary>FRAME_ALIGNMENT: the x86 ABI's 16-byte stack alignment.</summary>
    public const int FrameAlignment = 16;

    /// <summary>MAX_FRAME_PADDING = FRAME_ALIGNMENT - 1.</summary>
    public const int MaxFramePadding = FrameAlignment - 1;

    /// <summary>MAX_XSAVE_PADDING: worst-case padding to 64-align the XSAVE buffer.</summary>
    public const int MaxXsavePadding = 63;

    /// <summary>FP_XSTATE_MAGIC2_SIZE.</summary>
    public const int Magic2Size = 4;

    /// <summary>MAX_FRAME_SIGINFO_UCTXT_SIZE: sizeof(struct sigframe_ia32) with IA32 emulation (the largest of the
    /// four frame types), else sizeof(struct rt_sigframe).</summary>
    public static int MaxFrameSiginfoUctxtSize(KernelBuildOptions build) =>
        build.Ia32Emulation ? SigframeStructs.SigframeIa32.Sizeof : SigframeStructs.RtSigframe.Sizeof;

    /// <summary><c>fpu__get_fpstate_size()</c>: fpu_user_cfg.max_size + MAGIC2 (XSAVE) + the fsave header when
    /// 32-bit frames are possible (IA32 emulation with FXSR).</summary>
    public static int FpuGetFpstateSize(UabiConfig cfg)
    {
        int ret = cfg.UserMaxSize;
        if (cfg.UseXsave)
            ret += Magic2Size;
        if (cfg.Build.Ia32Emulation)
            ret += Boot.FpuSystem.FregsStateSize;
        return ret;
    }

    /// <summary><c>init_sigframe_size()</c>: max_frame_size, printed as "signal: max sigframe size: %lu" and
    /// exported as AT_MINSIGSTKSZ (auxv 51) by ARCH_DLINFO.</summary>
    public static int MaxFrameSize(UabiConfig cfg)
    {
        int size = MaxFrameSiginfoUctxtSize(cfg.Build) + MaxFramePadding + FpuGetFpstateSize(cfg) + MaxXsavePadding;
        return RoundUp(size, FrameAlignment);
    }

    /// <summary>The boot log line of <see cref="MaxFrameSize"/> (pr_fmt "signal: ").</summary>
    public static string BootLogLine(UabiConfig cfg) => $"signal: max sigframe size: {MaxFrameSize(cfg)}";

    /// <summary><c>xstate_sigframe_size()</c>: user_size (+4 for MAGIC2 with XSAVE).</summary>
    public static int XstateSigframeSize(UabiConfig cfg, FpState fps) => cfg.UseXsave ? fps.UserSize + Magic2Size : fps.UserSize;

    /// <summary><c>fpu__alloc_mathframe(sp, ia32_frame)</c>: buf_fx = round_down(sp - frame size, 64); 32-bit FXSR
    /// frames put the 112-byte fsave header below it.</summary>
    public static (ulong Sp, ulong BufFx, int Size) AllocMathframe(UabiConfig cfg, FpState fps, ulong sp, bool ia32Frame)
    {
        int frameSize = XstateSigframeSize(cfg, fps);
        ulong bufFx = (sp - (ulong)frameSize) & ~63UL;
        sp = bufFx;
        if (ia32Frame)
        {
            frameSize += Boot.FpuSystem.FregsStateSize;
            sp -= Boot.FpuSystem.FregsStateSize;
        }
        return (sp, bufFx, frameSize);
    }

    /// <summary><c>sigaltstack_size_valid()</c> (arch/x86/kernel/signal.c) for a task whose group may use
    /// <paramref name="permittedUserSize"/> (perm.__user_state_size); <paramref name="dynamicPermitted"/> is
    /// USER_DYNAMIC ∈ perm, <paramref name="strict"/> CONFIG_STRICT_SIGALTSTACK_SIZE or strict_sas_size.</summary>
    public static bool SigaltstackSizeValid(UabiConfig cfg, ulong ssSize, int permittedUserSize, bool dynamicPermitted, bool strict)
    {
        long fsize = MaxFrameSize(cfg) - FpuGetFpstateSize(cfg) + permittedUserSize;
        bool dynamicKey = (cfg.UserMaxFeatures & Arch.Features.XFeatureMasks.UserDynamic) != 0;
        if (!dynamicKey && !strict)
            return true;
        if ((long)ssSize > fsize)
            return true;
        if (strict)
            return (long)ssSize > fsize;
        return !dynamicPermitted;
    }

    private static int RoundUp(int v, int a) => (v + a - 1) / a * a;
}
