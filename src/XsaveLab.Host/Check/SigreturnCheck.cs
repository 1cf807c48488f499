namespace XsaveLab.Host.Check;

/// <summary>rt_sigreturn of real frames edited in the child's memory: a changed extended state, a legacy
/// (FX-only) frame, and a frame XRSTOR rejects. The child's state after the return, read with
/// PTRACE_GETREGSET, is compared with <see cref="Sigframes.FpuRestoreSig"/> on the same frame bytes.</summary>
public sealed class SigreturnCheck : IHostCheckProvider
{
    public string Name => "sigreturn";

    private const int SigSegv = 11;

    private enum Edit
    {
        /// <summary>New AVX upper halves; opmask put in init state through XSTATE_BV.</summary>
        ChangedExtendedState,

        /// <summary>magic1 broken: restored as an FXSAVE-only frame, extended state to init.</summary>
        LegacyFrame,

        /// <summary>XSTATE_BV with bit 62 (not in XCR0): XRSTOR #GP ⇒ user state cleared, SIGSEGV.</summary>
        BadXstateBv,

        /// <summary>MAGIC2 broken: an FX-only frame as well.</summary>
        BrokenMagic2,

        /// <summary>XCOMP_BV = 1 without bit 63: header bytes 8..23 must be zero for a standard-form XRSTOR ⇒ #GP.</summary>
        XcompBvWithoutCompactedBit,

        /// <summary>A reserved header byte beyond byte 23: not checked by a standard-form XRSTOR ⇒ restored.</summary>
        ReservedHeaderByte40,

        /// <summary>XCOMP_BV = bit 63 | XCR0: a compacted image, which XRSTOR accepts when the CPU has XSAVEC.</summary>
        CompactedHeader,

        /// <summary>MXCSR = 0xFFFFFFFF: reserved bits ⇒ #GP ⇒ SIGSEGV.</summary>
        ReservedMxcsr,
    }

    public IEnumerable<Observable> Run(HostCheckContext ctx)
    {
        if (TracedProbe.CannotRun(ctx) is { } why)
        {
            yield return Observable.Skipped("sigreturn", why);
            yield break;
        }
        foreach (var edit in Enum.GetValues<Edit>())
        {
            ulong seed = 0x5160_0000UL + (ulong)edit;
            var (observations, traced) = TracedProbe.OnLoadedChild(ctx, seed, $"sigreturn {edit}", child => Scenario(ctx, child, seed, edit));
            foreach (var o in observations)
                yield return o;
            if (!traced)
                yield break;
        }
    }

    private static List<Observable> Scenario(HostCheckContext ctx, TracedChild child, ulong seed, Edit edit)
    {
        var list = new List<Observable>();
        var get = child.GetRegset(NoteType.NtX86Xstate);
        if (!get.Ok)
        {
            list.Add(Observable.Skipped($"sigreturn {edit}", $"PTRACE_GETREGSET failed: {get}"));
            return list;
        }
        var cfg = ctx.Uabi(ChildModel.HardwareMxcsrMask(get.Data));
        var model = ChildModel.AfterLoad(cfg, SeededXstateImage.Build(seed, UserXstateLayout.FromHost()));
        using var hs = HandlerStop.Enter(child, out string why);
        if (hs is null)
        {
            list.Add(Observable.Skipped($"sigreturn {edit}", why));
            return list;
        }
        int len = model.Fpstate.UserSize + SigframeSizes.Magic2Size;
        var frame = hs.Read(hs.BufFx, len);
        var rng = new Random((int)seed);
        switch (edit)
        {
            case Edit.ChangedExtendedState:
                if ((cfg.UserMaxFeatures & XFeatureMasks.Ymm) != 0)
                    rng.NextBytes(frame.AsSpan(cfg.StandardOffset(2), cfg.Size(2)));
                rng.NextBytes(frame.AsSpan(XsaveOffsets.XmmSpace, 16));
                ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(XsaveOffsets.XstateBv));
                BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(XsaveOffsets.XstateBv), bv & ~XFeatureMasks.Opmask);
                break;
            case Edit.LegacyFrame:
                frame[XsaveOffsets.SwReserved] ^= 0xFF;
                break;
            case Edit.BadXstateBv:
                frame[XsaveOffsets.XstateBv + 7] |= 0x40;
                break;
            case Edit.BrokenMagic2:
                frame[model.Fpstate.UserSize] ^= 0xFF;
                break;
            case Edit.XcompBvWithoutCompactedBit:
                frame[XsaveOffsets.XcompBv] = 1;
                break;
            case Edit.ReservedHeaderByte40:
                frame[XsaveOffsets.Header + 40] = 1;
                break;
            case Edit.CompactedHeader:
                BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(XsaveOffsets.XcompBv), XFeatureMasks.CompactedFormat | cfg.UserMaxFeatures);
                break;
            case Edit.ReservedMxcsr:
                BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(XsaveOffsets.Mxcsr), 0xFFFFFFFF);
                break;
        }
        hs.Write(hs.BufFx, frame);

        var exit = hs.Sigreturn();
        var modelResult = Sigframes.FpuRestoreSig(cfg, model, frame);
        // The state right at the end of rt_sigreturn (the child has not run user code since).
        var after = child.GetRegset(NoteType.NtX86Xstate);
        var next = exit.Stopped ? hs.NextStop() : exit;
        string modelOutcome = modelResult.Sigsegv ? "SIGSEGV" : "returned";
        string actualOutcome = next.Stopped && next.StopSignal == SigSegv ? "SIGSEGV" : next.Stopped ? "returned" : next.ToString();
        list.Add(Observable.Compare($"sigreturn {edit}: outcome", modelOutcome, actualOutcome, modelResult.Rule));

        if (!after.Ok)
        {
            list.Add(Observable.Skipped($"sigreturn {edit}: state", $"PTRACE_GETREGSET after the return failed: {after}"));
            return list;
        }
        var expect = PtraceRegsets.Get(cfg, model, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        list.AddRange(ChildModel.CompareImages($"sigreturn {edit}:", cfg, expect, after.Data,
            "__fpu_restore_sig(): XRSTOR/FXRSTOR from the frame, init for the rest; failure ⇒ fpu__clear_user_states()"));
        return list;
    }
}
