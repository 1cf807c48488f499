namespace XsaveLab.Host.Check;

/// <summary>AT_MINSIGSTKSZ (auxv 51) against <c>init_sigframe_size()</c> computed from the model's user max
/// size and the frame structs' C layout.</summary>
public sealed class SigframeSizeCheck : IHostCheckProvider
{
    public string Name => "signal frame size";

    public IEnumerable<Observable> Run(HostCheckContext ctx)
    {
        var cfg = ctx.Uabi(0x0000FFFF);
        int model = SigframeSizes.MaxFrameSize(cfg);
        ulong? actual = Auxv.SelfValue(Auxv.AtMinSigStkSz);
        string reason = $"round_up(MAX_FRAME_SIGINFO_UCTXT_SIZE {SigframeSizes.MaxFrameSiginfoUctxtSize(cfg.Build)} + 15 + fpu__get_fpstate_size() {SigframeSizes.FpuGetFpstateSize(cfg)} + 63, 16); {ctx.KernelConfig.Source}";
        yield return actual is null or 0
            ? Observable.Skipped("AT_MINSIGSTKSZ", "the kernel passes no AT_MINSIGSTKSZ in the auxiliary vector", model.ToString())
            : Observable.Compare("AT_MINSIGSTKSZ", model.ToString(), actual.Value.ToString(), reason);
    }
}
