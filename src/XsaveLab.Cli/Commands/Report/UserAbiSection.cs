namespace XsaveLab.Cli.Commands.Report;

public sealed record XfeatRecordJson(uint Type, uint Size, uint Offset, uint Flags);

public sealed record UserAbiJson(
    int AtMinsigstksz, int FpuGetFpstateSize, int MaxFrameSiginfoUctxtSize, bool Ia32Emulation,
    int XstateRegsetLength, string XstateSwReserved464, int PrfpregLength,
    int SigframeXstateSize, int SigframeExtendedSize, string SigframeXfeatures, string Magic1, string Magic2,
    string SigframeInitOpt, IReadOnlyList<XfeatRecordJson> XsaveLayoutNote, int XsaveLayoutNoteBytes);

/// <summary>What user space sees of this CPU under Linux (the chosen kernel variant's rules): signal-frame sizes and sw_bytes,
/// ptrace regset lengths, the core-dump layout note.</summary>
public sealed class UserAbiSection : IReportSection
{
    public string Title => "User ABI (signal frames, ptrace, core dumps)";
    public string JsonKey => "userAbi";

    public bool AppliesTo(ReportContext ctx) => ctx.Cpu.HasXsave;

    public object ToJson(ReportContext ctx)
    {
        var cfg = UabiConfig.FromSystem(FpuSystem.Boot(ctx.Cpu, ctx.Kernel));
        var fps = cfg.NewDefaultFpstate();
        var note = XsaveLayoutNote.Create(cfg);
        return new UserAbiJson(
            SigframeSizes.MaxFrameSize(cfg), SigframeSizes.FpuGetFpstateSize(cfg), SigframeSizes.MaxFrameSiginfoUctxtSize(cfg.Build), cfg.Build.Ia32Emulation,
            PtraceRegsets.Length(cfg, NoteType.NtX86Xstate), Json.Hex(cfg.UserMaxFeatures), PtraceRegsets.Length(cfg, NoteType.NtPrfpreg),
            fps.UserSize, fps.UserSize + SigframeSizes.Magic2Size, Json.Hex(fps.UserXfeatures),
            Json.Hex(Sigframes.FpXstateMagic1), Json.Hex(Sigframes.FpXstateMagic2),
            Json.Hex(XFeatureMasks.SigframeInitOpt & cfg.UserMaxFeatures),
            note is null ? [] : [.. XsaveLayoutNote.Records(cfg).Select(r => new XfeatRecordJson(r.Type, r.Size, r.Offset, r.Flags))],
            note?.EncodedSize ?? 0);
    }

    public IReadOnlyList<ReportBlock> Content(ReportContext ctx)
    {
        var j = (UserAbiJson)ToJson(ctx);
        var t = new TextTable("item", "value", "rule");
        t.AddRow("AT_MINSIGSTKSZ", Numbers.Int(j.AtMinsigstksz),
            $"round_up({Numbers.Int(j.MaxFrameSiginfoUctxtSize)} + 15 + fpu__get_fpstate_size() {Numbers.Int(j.FpuGetFpstateSize)} + 63, 16) (init_sigframe_size)");
        t.AddRow("signal frame FPU area", Numbers.Bytes(j.SigframeExtendedSize), $"user_size {Numbers.Int(j.SigframeXstateSize)} + MAGIC2 {j.Magic2}; 64-byte aligned (fpu__alloc_mathframe)");
        t.AddRow($"_fpx_sw_bytes at {XsaveOffsets.SwReserved}", $"{j.Magic1} / {Numbers.Int(j.SigframeExtendedSize)} / {j.SigframeXfeatures} / {Numbers.Int(j.SigframeXstateSize)}",
            "magic1 / extended_size / xfeatures / xstate_size (save_sw_bytes)");
        t.AddRow("written only when in use", j.SigframeInitOpt, "XFEATURE_MASK_SIGFRAME_INITOPT (xfeatures_need_sigframe_write)");
        t.AddRow("NT_X86_XSTATE length", Numbers.Int(j.XstateRegsetLength), $"fpu_user_cfg.max_size; u64 at {XsaveOffsets.SwReserved} = {j.XstateSwReserved464} (xstate_fx_sw_bytes)");
        t.AddRow("NT_PRFPREG length", Numbers.Int(j.PrfpregLength), "sizeof(struct fxregs_state)");
        if (j.XsaveLayoutNoteBytes == 0)
            t.AddRow("NT_X86_XSAVE_LAYOUT", "not written", ctx.Kernel.WritesXsaveLayoutNote ? "fpu_user_cfg.max_features = 0" : "no such note before ba386777a30b (6.12)");
        else
            t.AddRow("NT_X86_XSAVE_LAYOUT", $"{j.XsaveLayoutNote.Count} records, note {Numbers.Bytes(j.XsaveLayoutNoteBytes)}",
                string.Join(" ", j.XsaveLayoutNote.Select(r => $"{r.Type}:{r.Size}@{r.Offset}")));
        return [new TableBlock(t)];
    }
}
