namespace XsaveLab.Host.Check;

/// <summary>A real signal frame: the traced child (registers loaded with known values) gets a signal it has a
/// handler for, injected with PTRACE_SINGLESTEP so it stops at the handler's first instruction
/// (<c>signal_setup_done()</c> → ptrace_notify(SIGTRAP) when stepping). The FPU part of the frame the kernel
/// built is read through /proc/PID/mem and compared with <see cref="Sigframes.CopyFpstateToSigframe"/>.</summary>
public sealed class SigframeCheck : IHostCheckProvider
{
    public string Name => "signal frame";

    private const ulong Seed = 0x516F_0003;

    public IEnumerable<Observable> Run(HostCheckContext ctx) =>
        TracedProbe.RunOnXstate(ctx, "signal frame", "signal frame", Seed, (child, get, cfg) => Checks(ctx, child, get, cfg));

    private static List<Observable> Checks(HostCheckContext ctx, TracedChild child, LiveRegsetResult get, UabiConfig cfg)
    {
        var list = new List<Observable>();
        var model = ChildModel.AfterLoad(cfg, SeededXstateImage.Build(Seed, UserXstateLayout.FromHost()));
        using var hs = HandlerStop.Enter(child, out string why);
        if (hs is null)
        {
            list.Add(Observable.Skipped("signal frame", why));
            return list;
        }
        ulong Reg(byte[] r, int i) => HandlerStop.Reg(r, i);
        var regs0 = hs.RegsBefore;
        var regs1 = hs.RegsAtHandler;
        list.Add(Observable.Compare("signal handler argument (signal number)", hs.Signal.ToString(CultureInfo.InvariantCulture), Reg(regs1, HandlerStop.RegRdi).ToString(CultureInfo.InvariantCulture)));
        ulong uc = Reg(regs1, HandlerStop.RegRdx);
        ulong bufFx = hs.BufFx;

        // Where the kernel put the frame: below the red zone, buf_fx 64-aligned (fpu__alloc_mathframe), the
        // rt_sigframe below it (align_sigframe: round_down(sp - sizeof(rt_sigframe), 16) - 8).
        ulong sp0 = Reg(regs0, HandlerStop.RegRsp);
        var (spAfterMath, modelBufFx, _) = SigframeSizes.AllocMathframe(cfg, model.Fpstate, sp0 - 128, false);
        ulong modelSp = ((spAfterMath - (ulong)SigframeStructs.RtSigframe.Sizeof) & ~15UL) - 8;
        const string placement = "get_sigframe(): red zone 128, fpu__alloc_mathframe(), align_sigframe(); no SA_ONSTACK";
        list.Add(Observable.Compare("signal frame: fpstate pointer (buf_fx) relative to the interrupted sp", $"sp-{sp0 - modelBufFx}", $"sp-{sp0 - bufFx}", placement));
        list.Add(Observable.Compare("signal frame: handler sp relative to the interrupted sp", $"sp-{sp0 - modelSp}", $"sp-{sp0 - Reg(regs1, HandlerStop.RegRsp)}", placement));
        list.Add(Observable.Compare("signal frame: ucontext address", $"sp+{SigframeStructs.RtSigframe.OffsetOf("uc")}", $"sp+{uc - Reg(regs1, HandlerStop.RegRsp)}", "rt_sigframe {pretcode, uc, info}"));
        list.Add(Observable.Compare("signal frame: siginfo address", $"sp+{SigframeStructs.RtSigframe.OffsetOf("info")}", $"sp+{Reg(regs1, HandlerStop.RegRsi) - Reg(regs1, HandlerStop.RegRsp)}", "rt_sigframe {pretcode, uc, info}"));

        int len = model.Fpstate.UserSize + SigframeSizes.Magic2Size;
        var actual = hs.Read(bufFx, len);
        var modelFrame = new byte[len];
        Sigframes.CopyFpstateToSigframe(cfg, model, modelFrame);
        const string reason = "copy_fpstate_to_sigframe(): XSAVE of the child's registers, PKRU update, save_xstate_epilog()";
        foreach (var (region, off, n) in ChildModel.Regions(cfg))
        {
            if (off == XsaveOffsets.Padding)
                continue; // XSAVE leaves these 48 bytes as the stack held them
            list.Add(Observable.Compare($"signal frame {region}", ChildModel.Hex(modelFrame.AsSpan(off, n)), ChildModel.Hex(actual.AsSpan(off, n)), reason));
        }
        list.Add(Observable.Compare("signal frame MAGIC2 after the image", ChildModel.Hex(modelFrame.AsSpan(len - 4)), ChildModel.Hex(actual.AsSpan(len - 4)), reason));
        return list;
    }
}
