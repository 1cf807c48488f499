namespace XsaveLab.Host.Check;

/// <summary>PTRACE_GETREGSET/SETREGSET of NT_X86_XSTATE and NT_PRFPREG on a traced child that loaded known
/// register values: length and bytes of the GET image, each malformed SET buffer's errno (and that it changed
/// nothing), round trips, and seeded model-written images read back by the kernel.</summary>
public sealed class PtraceRegsetCheck : IHostCheckProvider
{
    public string Name => "ptrace";

    private const ulong LoadSeed = 0x5EED_0001;

    /// <summary>The iov_len the GET offers: larger than any user xstate size, so the kernel's clamp shows.</summary>
    private const int Offered = 16384;

    public IEnumerable<Observable> Run(HostCheckContext ctx) =>
        TracedProbe.RunOnXstate(ctx, "ptrace NT_X86_XSTATE", "ptrace NT_X86_XSTATE GET", LoadSeed, (child, get, cfg) => Checks(ctx, child, get, cfg));

    private static List<Observable> Checks(HostCheckContext ctx, TracedChild child, LiveRegsetResult get, UabiConfig cfg)
    {
        var list = new List<Observable>();
        const string why = "copy_xstate_to_uabi_buf(XSAVE) of the child's state after XRSTOR of the seeded image; MXCSR_MASK (not in CPUID) taken from the child's image";
        list.Add(Observable.Compare($"NT_X86_XSTATE GET iov_len ({Numbers.Int(Offered)} offered)", PtraceRegsets.Length(cfg, NoteType.NtX86Xstate).ToString(), get.Length.ToString(),
            "ptrace_regset clamps iov_len to n*size = fpu_user_cfg.max_size"));

        var seeded = SeededXstateImage.Build(LoadSeed, UserXstateLayout.FromHost());
        var model = ChildModel.AfterLoad(cfg, seeded);
        var modelGet = PtraceRegsets.Get(cfg, model, NoteType.NtX86Xstate, Offered);
        list.AddRange(ChildModel.CompareImages("NT_X86_XSTATE", cfg, modelGet.Data, get.Data, why));

        // Short and odd GETs: a prefix of the image (membuf), and -EINVAL for a length that is not a multiple of 8.
        foreach (int iov in new[] { XsaveOffsets.FxsaveSize, 1000, 1004 })
        {
            var mr = PtraceRegsets.Get(cfg, model, NoteType.NtX86Xstate, iov);
            var ar = child.GetRegset(NoteType.NtX86Xstate, iov);
            list.Add(Observable.Compare($"NT_X86_XSTATE GET iov_len {iov}",
                mr.Ok ? $"0 (iov_len {mr.IovLen}), {ChildModel.Hex(mr.Data)}" : Render(mr),
                ar.Ok ? $"0 (iov_len {ar.Length}), {ChildModel.Hex(ar.Data)}" : Render(ar),
                "ptrace_regset(): iov_len % 8 != 0 ⇒ -EINVAL; else the first iov_len bytes of the image"));
        }

        var fx = child.GetRegset(NoteType.NtPrfpreg);
        var modelFx = PtraceRegsets.Get(cfg, model, NoteType.NtPrfpreg, 16384);
        list.Add(Observable.Compare("NT_PRFPREG GET iov_len", modelFx.IovLen.ToString(), fx.Ok ? fx.Length.ToString() : fx.ToString()));
        if (fx.Ok)
            list.Add(Observable.Compare("NT_PRFPREG GET bytes", ChildModel.Hex(modelFx.Data), ChildModel.Hex(fx.Data), "copy_xstate_to_uabi_buf(FX): legacy area, rest zero"));

        // NT_X86_SHSTK: only in the regset view with CONFIG_X86_USER_SHADOW_STACK, and then -ENODEV for a task
        // without an enabled shadow stack.
        {
            var mr = PtraceRegsets.Get(cfg, model, NoteType.NtX86Shstk, 8);
            var ar = child.GetRegset(NoteType.NtX86Shstk, 8);
            list.Add(Observable.Compare("NT_X86_SHSTK GET", Render(mr), Render(ar), $"{mr.Rule}; {ctx.KernelConfig.Source}"));
        }

        // Malformed SETREGSET buffers: errno, and the state must stay as it was.
        var valid = get.Data;
        foreach (var m in Enum.GetValues<RegsetMalformation>())
        {
            var bad = RegsetMalformations.Build(cfg, valid, m);
            if (bad is null)
            {
                list.Add(Observable.Skipped($"SETREGSET {m}", "this machine lacks no user-supported feature, so the case cannot be built"));
                continue;
            }
            var mt = model.Clone();
            var mr = PtraceRegsets.Set(cfg, mt, NoteType.NtX86Xstate, bad);
            var ar = child.SetRegset(NoteType.NtX86Xstate, bad, bad.Length);
            list.Add(Observable.Compare($"SETREGSET {m} (iov_len {bad.Length})", Render(mr), Render(ar), mr.Rule));
            var after = child.GetRegset(NoteType.NtX86Xstate);
            bool same = after.Ok && after.Data.AsSpan().SequenceEqual(valid);
            list.Add(Observable.Compare($"SETREGSET {m}: state unchanged", "unchanged", same ? "unchanged" : "changed"));
        }

        // Oversized iov: clamped to max_size and accepted.
        {
            int big = Math.Max(4096, (cfg.UserMaxSize + 4096) / 8 * 8);
            var padded = new byte[big];
            valid.CopyTo(padded, 0);
            var mr = PtraceRegsets.Set(cfg, model.Clone(), NoteType.NtX86Xstate, padded);
            var ar = child.SetRegset(NoteType.NtX86Xstate, padded, padded.Length);
            list.Add(Observable.Compare($"SETREGSET iov_len {big} (oversized)", Render(mr), Render(ar), "ptrace_regset clamps iov_len to max_size before xstateregs_set"));
        }

        // NT_PRFPREG SET rules.
        if (fx.Ok)
        {
            var shortFx = fx.Data[..256];
            var badMx = (byte[])fx.Data.Clone();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(badMx.AsSpan(XsaveOffsets.Mxcsr), 0xFFFF0000);
            foreach (var (name, buf) in new[] { ("NT_PRFPREG SET 256 bytes", shortFx), ("NT_PRFPREG SET reserved MXCSR", badMx), ("NT_PRFPREG SET own image", fx.Data) })
            {
                var mr = PtraceRegsets.Set(cfg, model.Clone(), NoteType.NtPrfpreg, buf);
                var ar = child.SetRegset(NoteType.NtPrfpreg, buf, buf.Length);
                list.Add(Observable.Compare(name, Render(mr), Render(ar), mr.Rule));
            }
        }

        // Round trip of the valid image.
        {
            var mt = model.Clone();
            var mr = PtraceRegsets.Set(cfg, mt, NoteType.NtX86Xstate, valid);
            bool modelSame = PtraceRegsets.Get(cfg, mt, NoteType.NtX86Xstate, cfg.UserMaxSize).Data.AsSpan().SequenceEqual(valid);
            var ar = child.SetRegset(NoteType.NtX86Xstate, valid, valid.Length);
            var back = child.GetRegset(NoteType.NtX86Xstate);
            list.Add(Observable.Compare("SETREGSET of the GET image, then GET", $"{Render(mr)}, {(modelSame ? "identical" : "different")}",
                $"{Render(ar)}, {(back.Ok && back.Data.AsSpan().SequenceEqual(valid) ? "identical" : "different")}"));
        }

        // Seeded model-written images: the kernel must read back exactly what the model predicts.
        int n = ctx.Options.SeededCases, identical = 0;
        string firstDiff = "";
        ulong coverage = 0;
        for (int seed = 0; seed < n; seed++)
        {
            var img = UabiRandom.XstateImage(cfg, seed);
            var mt = model.Clone();
            var mr = PtraceRegsets.Set(cfg, mt, NoteType.NtX86Xstate, img);
            var expect = PtraceRegsets.Get(cfg, mt, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
            var ar = child.SetRegset(NoteType.NtX86Xstate, img, img.Length);
            var back = child.GetRegset(NoteType.NtX86Xstate);
            coverage |= System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(XsaveOffsets.XstateBv));
            if (mr.Ok && ar.Ok && back.Ok && back.Data.AsSpan().SequenceEqual(expect))
                identical++;
            else if (firstDiff.Length == 0)
            {
                int at = back.Ok ? Enumerable.Range(0, Math.Min(expect.Length, back.Data.Length)).FirstOrDefault(i => expect[i] != back.Data[i], -1) : -1;
                firstDiff = $"seed {seed}: model {Render(mr)}, kernel {Render(ar)}; first differing byte {at}";
            }
        }
        list.Add(Observable.Compare($"SETREGSET seeded images read back ({n} cases)", $"{n}/{n} identical", $"{identical}/{n} identical",
            firstDiff.Length > 0 ? firstDiff : $"components exercised: {Arch.Features.XFeatureTable.Describe(coverage)}"));
        list.Add(Observable.Compare("seeded images cover every user component", $"0x{cfg.UserDefaultFeatures:x}", $"0x{coverage & cfg.UserDefaultFeatures:x}"));
        return list;
    }

    private static string Render(RegsetResult r) => r.Ok ? $"0 (iov_len {r.IovLen})" : $"-1 {ErrnoNames.Name((int)r.Errno)}";

    private static string Render(LiveRegsetResult r) => r.Ok ? $"0 (iov_len {r.Length})" : $"-1 {ErrnoNames.Name(r.Errno)}";
}
