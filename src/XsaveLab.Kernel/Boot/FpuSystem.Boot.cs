namespace XsaveLab.Kernel.Boot;

public sealed partial class FpuSystem
{
    /// <summary>Boots the FPU core on <paramref name="profile"/>: <c>fpu__init_system()</c> steps 3–6
    /// (arch/x86/kernel/fpu/init.c) with <c>fpu__init_system_xstate()</c> (xstate.c) step by step, then
    /// <c>init_sigframe_size()</c> (signal.c).</summary>
    public static FpuSystem Boot(CpuProfile profile, KernelVariant? variant = null, BootOptions? options = null)
    {
        options ??= BootOptions.Default;
        var sys = new FpuSystem(profile, variant ?? KernelVariants.Default, options, new BootCaps(profile, options));
        sys.Run();
        return sys;
    }

    private void Run()
    {
        // fpu__init_system_xstate_size_legacy(): all five sizes start at the legacy size.
        ulong legacyFeatures;
        if (!Caps.Fpu)
        {
            LegacySize = 108; // sizeof(struct swregs_state) (math emulation)
            legacyFeatures = 0;
        }
        else if (Caps.Fxsr)
        {
            LegacySize = FxregsStateSize;
            legacyFeatures = XFeatureMasks.FpSse;
        }
        else
        {
            LegacySize = FregsStateSize;
            legacyFeatures = XFeatureMasks.Fp;
        }
        KernelCfg = new FpuStateConfig(LegacySize, LegacySize, 0, 0, 0, 0);
        UserCfg = new FpuStateConfig(LegacySize, LegacySize, 0, 0, legacyFeatures, 0);
        GuestDefaultCfg = new VcpuFpuConfig(LegacySize, 0);

        // fpu__init_system_mxcsr(): FXSAVE into a zeroed buffer and read MXCSR_MASK.
        HardwareMxcsrMask = Caps.Fxsr ? new XsaveLab.Arch.Machine.XsaveCpu(Profile).MxcsrMask : 0;
        InitXsave();
        SaveInstruction = !XsaveEnabled
            ? (Caps.Fxsr ? SaveInstruction.Fxsave : SaveInstruction.Fnsave)
            : Caps.Xsaves ? SaveInstruction.Xsaves
            : Caps.Xsavec ? SaveInstruction.Xsavec
            : Caps.Xsaveopt ? SaveInstruction.Xsaveopt
            : SaveInstruction.Xsave;
        if (XsaveEnabled && SaveInstruction != SaveInstruction.Xsaves)
            Decide("XSAVES", "not used", $"X86_FEATURE_XSAVES is not set: the kernel saves with {SaveInstruction.ToString().ToUpperInvariant()}"
                + (Compacted ? " in the compacted format" : " in the standard format"), false, "os_xsave() (arch/x86/kernel/fpu/xstate.h)");
        if (InitFpStateSize == 0)
        {
            InitFpStateSize = KernelCfg.DefaultSize;
            InitFpStateXfeatures = KernelCfg.DefaultFeatures;
        }
        _initRegs = BuildInitImage();

        // init_sigframe_size(): MAX_FRAME_SIGINFO_UCTXT_SIZE + MAX_FRAME_PADDING + fpstate + MAX_XSAVE_PADDING.
        FpuDefaultStateSize = UserCfg.MaxSize + (XsaveEnabled ? 4 : 0) + (Options.Ia32Emulation && Caps.Fxsr ? FregsStateSize : 0);
        int frame = SigframeBaseSize(Options.Ia32Emulation) + Uabi.SigframeSizes.MaxFramePadding + FpuDefaultStateSize + Uabi.SigframeSizes.MaxXsavePadding;
        int align = Uabi.SigframeSizes.FrameAlignment;
        MaxFrameSize = (frame + align - 1) & ~(align - 1);
        if (Stopped is null)
            _dmesg.Add($"signal: max sigframe size: {MaxFrameSize}");
    }

    /// <summary><c>MAX_FRAME_SIGINFO_UCTXT_SIZE</c>: sizeof(struct sigframe_ia32) with IA32 emulation (736:
    /// _fpstate_32 is 8-byte aligned by _fpx_sw_bytes.xfeatures, padding 732 bytes of members), else
    /// sizeof(struct rt_sigframe) (440) — both laid out from the C structs in <see cref="Uabi.SigframeStructs"/>.</summary>
    public static int SigframeBaseSize(bool ia32Emulation) =>
        ia32Emulation ? Uabi.SigframeStructs.SigframeIa32.Sizeof : Uabi.SigframeStructs.RtSigframe.Sizeof;

    private void Log(string line) => _dmesg.Add(line);

    private void Decide(string subject, string outcome, string reason, bool dropped, string function = "fpu__init_system_xstate()") =>
        _decisions.Add(new BootDecision(subject, outcome, reason, function, dropped));

    // Why a gate is off: the CPU does not enumerate it, or a boot option / erratum cleared it.
    // PKRU's gate is OSPKE, which the kernel sets itself when PKU is there (BootCaps): the bit that decides is PKU.
    private string GateReason(CpuFeature gate)
    {
        if (gate == CpuFeature.OsPke)
            gate = CpuFeature.Pku;
        return Caps.Cleared.Any(d => d.Subject == CpuFeatureNames.KernelName(gate))
            ? $"X86_FEATURE_{CpuFeatureNames.KernelName(gate)} cleared"
            : $"{CpuFeatureNames.Cpuid(gate)} = 0";
    }

    private static IEnumerable<int> Bits(ulong mask)
    {
        for (; mask != 0; mask &= mask - 1)
            yield return BitOperations.TrailingZeroCount(mask);
    }

    private void Warn(string message)
    {
        _warnings.Add(message);
        _dmesg.Add(message);
    }

    private void InitXsave()
    {
        if (!Caps.Fpu)
        {
            Log("x86/fpu: No FPU detected");
            return;
        }
        if (!Caps.Xsave)
        {
            Log($"x86/fpu: x87 FPU will use {(Caps.Fxsr ? "FXSAVE" : "FSAVE")}");
            if (!Profile.HasLeafD)
                Decide("XSAVE", "not used", $"{CpuFeatureNames.Cpuid(CpuFeature.Xsave)} = 0: {(Caps.Fxsr ? "FXSAVE" : "FSAVE")} only", false);
            return;
        }
        XsaveEnabled = true;

        // Steps 3-4: user (XCR0) and supervisor (XSS) bits the processor enumerates.
        var d0 = Profile.Leaf(0xD, 0);
        var d1 = Profile.Leaf(0xD, 1);
        ulong max = d0.Eax | (ulong)d0.Edx << 32;
        max |= d1.Ecx | (ulong)d1.Edx << 32;

        if ((max & XFeatureMasks.FpSse) != XFeatureMasks.FpSse)
        {
            Log($"x86/fpu: FP/SSE not present amongst the CPU's xstate features: 0x{max:x}.");
            Disable(KernelCfg with { MaxFeatures = max });
            return;
        }
        if ((max & XFeatureMasks.Apx) != 0 && (max & XFeatureMasks.Mpx) != 0)
        {
            Log($"x86/fpu: Both APX/MPX present in the CPU's xstate features: 0x{max:x}.");
            Disable(KernelCfg with { MaxFeatures = max });
            return;
        }

        // Step 7: independent features are taken before the gate loop.
        ulong independent = max & XFeatureMasks.Independent;

        // Step 8: xsave_cpuid_features[] gates (array length APX+1); x87's entry is 0 = X86_FEATURE_FPU.
        for (int i = 0; i < XFeatureTable.Count; i++)
        {
            if (i == (int)XFeature.Fp)
            {
                if (!Caps.Fpu)
                    max &= ~1UL;
                continue;
            }
            var gate = Variant.Gate(i);
            if (gate is null || !Caps.Has(gate.Value))
            {
                // A component Linux has no entry for is the default path; a missing gate is a decision.
                if ((max >> i & 1) != 0 && gate is { } g)
                    Decide(XFeatureTable.Get(i).ShortName, "dropped", GateReason(g), true);
                max &= ~(1UL << i);
            }
        }
        // Bits above APX have no table entry and are not touched by the loop; the mask below drops them.

        // Step 9-10.
        if (!Caps.Xfd)
        {
            foreach (int i in Bits(max & XFeatureMasks.UserDynamic))
                Decide(XFeatureTable.Get(i).ShortName, "dropped", "no XFD to arm its first-use trap: " + GateReason(CpuFeature.Xfd), true);
            max &= ~XFeatureMasks.UserDynamic;
        }
        if (!Caps.Xsaves)
            foreach (int i in Bits(max & Variant.SupervisorSupported))
                Decide(XFeatureTable.Get(i).ShortName, "dropped", "supervisor state needs XSAVES: " + GateReason(CpuFeature.Xsaves), true);
        max &= Caps.Xsaves ? XFeatureMasks.UserSupported | Variant.SupervisorSupported : XFeatureMasks.UserSupported;

        // Step 11-12: user max, then defaults through host_default_mask()/guest_default_mask().
        ulong userMax = max & XFeatureMasks.UserSupported;
        ulong kernelDefault = max & Variant.HostDefaultMask;
        ulong userDefault = userMax & Variant.HostDefaultMask;
        ulong guestFeatures = max & Variant.GuestDefaultMask;
        ulong xfeatures = max; // step 13, for the final paranoia check

        KernelCfg = KernelCfg with { MaxFeatures = max, DefaultFeatures = kernelDefault, IndependentFeatures = independent };
        UserCfg = UserCfg with { MaxFeatures = userMax, DefaultFeatures = userDefault };
        GuestDefaultCfg = GuestDefaultCfg with { Features = guestFeatures };

        foreach (int i in Bits(max & Variant.GuestSupervisorMask & ~kernelDefault))
            Decide(XFeatureTable.Get(i).ShortName, "kept out of host tasks",
                "guest-only supervisor feature (XFEATURE_MASK_GUEST_SUPERVISOR): only guest fpstates allocate it", false, "host_default_mask()");

        // Step 14-15.
        InitXfd = userMax & XFeatureMasks.UserDynamic;
        Compacted = Caps.Xsavec || Caps.Xsaves;

        // Step 16: fpu__init_cpu_xstate() on the boot CPU: the values every CPU gets. They come from CPUID alone
        // and are written before any size check, so a CPUID whose features XSETBV refuses together (half of
        // AVX-512 or of AMX) faults here, on hardware rules and under KVM's __kvm_set_xcr() alike.
        if (max != 0)
        {
            Xcr0 = userMax;
            Xss = Caps.Xsaves ? SupervisorMask | IndependentMask : 0;
            var fault = ProgramCpu(new XsaveCpu(Profile), out string instruction, out ulong value);
            if (fault.IsFault)
            {
                Stop(new BootStop(instruction, value, fault));
                return;
            }
        }

        // Step 17-18: setup_xstate_cache(), init_xstate_size().
        // get_xsave_size_user(): CPUID(0xD,0).EBX.
        int userSize = ReportedSize(0, Xcr0, 0);
        // get_xsave_compacted_size(): CPUID(0xD,1).EBX; with independent features XSS is temporarily the
        // supervisor mask only.
        int kernelSize = Compacted ? ReportedSize(1, Xcr0, Caps.Xsaves ? SupervisorMask : 0) : userSize;
        int kernelDefaultSize = CalculateSize(kernelDefault, Compacted);
        if (!ParanoidSizeValid(kernelSize))
        {
            Disable(KernelCfg);
            return;
        }
        KernelCfg = KernelCfg with { MaxSize = kernelSize, DefaultSize = kernelDefaultSize };
        UserCfg = UserCfg with { MaxSize = userSize, DefaultSize = CalculateSize(userDefault, false) };
        GuestDefaultCfg = GuestDefaultCfg with { Size = CalculateSize(guestFeatures, Compacted) };

        // Step 20: init_fpstate covers the default features; it must fit the static buffer.
        InitFpStateSize = KernelCfg.DefaultSize;
        InitFpStateXfeatures = KernelCfg.DefaultFeatures;
        if (InitFpStateSize > InitFpStateCapacity)
        {
            Log($"x86/fpu: init_fpstate buffer too small ({InitFpStateCapacity} < {InitFpStateSize})");
            Disable(KernelCfg);
            return;
        }

        // Step 21: setup_init_fpu_buf() prints the supported features.
        for (int i = 0; i < XFeatureTable.Count; i++)
        {
            ulong mask = 1UL << i;
            if ((KernelCfg.MaxFeatures & mask) != 0)
                Log($"x86/fpu: Supporting XSAVE feature 0x{mask:x3}: '{Variant.BootName(i)}'");
        }

        // Step 22: nothing in the model modifies max during init; the check is kept for completeness.
        if (xfeatures != KernelCfg.MaxFeatures)
        {
            Log($"x86/fpu: xfeatures modified from 0x{xfeatures:x16} to 0x{KernelCfg.MaxFeatures:x16} during init");
            Disable(KernelCfg);
            return;
        }

        // Step 24: print_xstate_offset_size() and the summary.
        ulong ext = KernelCfg.MaxFeatures & XFeatureMasks.Extend;
        for (int i = 2; i < 64; i++)
        {
            if ((ext >> i & 1) == 0)
                continue;
            Log(string.Create(CultureInfo.InvariantCulture,
                $"x86/fpu: xstate_offset[{i}]: {FeatureOffset(KernelCfg.MaxFeatures, i),4}, xstate_sizes[{i}]: {FeatureSize(i),4}"));
        }
        Log($"x86/fpu: Enabled xstate features 0x{KernelCfg.MaxFeatures:x}, context size is {KernelCfg.MaxSize} bytes, using '{(Compacted ? "compacted" : "standard")}' format.");
    }

    // paranoid_xstate_size_valid(): struct sizes (warnings only), supervisor features need XSAVES, and the
    // computed size must equal what CPUID reports for the programmed XCR0/XSS.
    private bool ParanoidSizeValid(int kernelSize)
    {
        ulong ext = KernelCfg.MaxFeatures & XFeatureMasks.Extend;
        for (int i = 2; i < 64; i++)
        {
            if ((ext >> i & 1) == 0)
                continue;
            int sz = FeatureSize(i);
            var info = XFeatureTable.Get(i);
            if (i == (int)XFeature.XtileData)
                CheckXtileData(sz);
            else if (info.ArchitecturalSize is int structSize && (uint)i < XFeatureTable.Count && info.KernelSupported)
            {
                if (sz != structSize)
                {
                    Warn($"[{Variant.BootName(i)}]: struct is {structSize} bytes, cpu state {sz} bytes");
                    DumpLeaves();
                }
            }
            else
            {
                Warn($"XSAVE consistency problem: No structure for xstate: {i}");
                DumpLeaves();
                return false;
            }
            if (!Caps.Xsaves && Profile.Component(i) is { Supervisor: true })
            {
                Warn($"XSAVE consistency problem: Got supervisor feature {i}, but XSAVES not advertised");
                DumpLeaves();
                return false;
            }
        }
        int size = CalculateSize(KernelCfg.MaxFeatures, Compacted);
        if (size != kernelSize)
        {
            SizeMismatch = new XstateSizeMismatch(size, kernelSize, Compacted ? 1u : 0u, Xcr0, Compacted && Caps.Xsaves ? SupervisorMask : 0);
            Warn($"XSAVE consistency problem: size {size} != kernel_size {kernelSize}");
            DumpLeaves();
            return false;
        }
        return true;
    }

    // check_xtile_data_against_struct(): tile size per palette must be 1024; size = 1024 × max tiles.
    private void CheckXtileData(int size)
    {
        uint maxPalette = Profile.Leaf(0x1D, 0).Eax;
        int maxTile = 0;
        for (uint p = 1; p <= maxPalette; p++)
        {
            var l = Profile.Leaf(0x1D, p);
            int tileSize = (int)(l.Eax >> 16);
            int names = (int)(l.Ebx >> 16);
            if (tileSize != 1024)
            {
                Log($"XFEATURE_XTILE_DATA: struct is 1024 bytes, cpu xtile {tileSize} bytes");
                DumpLeaves();
                return;
            }
            maxTile = Math.Max(maxTile, names);
        }
        if (size != 1024 * maxTile)
        {
            Log($"XFEATURE_XTILE_DATA: calculated size is {1024 * maxTile} bytes, cpu state {size} bytes");
            DumpLeaves();
        }
    }

    private bool _dumped;

    // __xstate_dump_leaves(): once, sub-leaves 0..XFEATURE_MAX + 9 of 0xD (29 since 6.16, 28 before), with EBX of 0
    // and 1 as the programmed CPU reports.
    private void DumpLeaves()
    {
        if (_dumped)
            return;
        _dumped = true;
        for (uint i = 0; i < Variant.XFeatureMax + 10; i++)
        {
            var l = Profile.Leaf(0xD, i);
            uint ebx = i switch
            {
                0 => (uint)ReportedSize(0, Xcr0, 0),
                1 => (uint)ReportedSize(1, Xcr0, Xss),
                _ => l.Ebx,
            };
            Log($"CPUID[0d, {i:x2}]: eax={l.Eax:x8} ebx={ebx:x8} ecx={l.Ecx:x8} edx={l.Edx:x8}");
        }
    }

    // CPUID(0xD, subLeaf).EBX once XCR0/XSS are programmed: recomputed as hardware does, or as a hypervisor
    // presents it (BootOptions.CpuidAsGiven).
    private int ReportedSize(uint subLeaf, ulong xcr0, ulong xss) =>
        Options.CpuidAsGiven ? (int)Profile.Leaf(0xD, subLeaf).Ebx
        : subLeaf == 0 ? CpuidSizes.StandardSizeForXcr0(Profile, xcr0)
        : CpuidSizes.CompactedSizeForXcr0Xss(Profile, xcr0, xss);

    // The oops in fpu__init_cpu_xstate() ends the boot: nothing after it runs, so the kernel's later lines are not
    // printed; the configurations fall back to the legacy sizes so that nothing downstream uses the XSAVE state.
    private void Stop(BootStop stop)
    {
        Stopped = stop;
        Decide("boot", "stopped", stop.Summary, true, "fpu__init_cpu_xstate()");
        foreach (var line in stop.KernelLines())
            Log(line);
        XsaveEnabled = false;
        LostFeatures = KernelCfg.MaxFeatures;
        FallBackToLegacy(KernelCfg);
    }

    // What a stopped and a disabled XSAVE both leave: no features in the kernel config, every size the legacy
    // FXSAVE size, no XFD, XCR0 and IA32_XSS unprogrammed.
    private void FallBackToLegacy(FpuStateConfig kernel)
    {
        Compacted = false;
        KernelCfg = kernel with { MaxFeatures = 0, MaxSize = LegacySize, DefaultSize = LegacySize };
        UserCfg = UserCfg with { MaxSize = LegacySize, DefaultSize = LegacySize };
        GuestDefaultCfg = GuestDefaultCfg with { Size = LegacySize };
        InitXfd = 0;
        Xcr0 = 0;
        Xss = 0;
    }

    // fpu__init_disable_system_xstate(): kernel max = 0, XSAVE off, all sizes back to legacy, no XFD.
    // The user config keeps whatever features were already stored (the kernel does not clear them).
    private void Disable(FpuStateConfig kernel)
    {
        // The reason is the last message before the disable, not a line of the CPUID dump that follows a warning.
        string? why = _dmesg.LastOrDefault(l => !l.StartsWith("CPUID[", StringComparison.Ordinal));
        Decide("XSAVE", "disabled", why ?? "consistency check failed", true, "fpu__init_disable_system_xstate()");
        Log("x86/fpu: XSAVE disabled");
        XsaveEnabled = false;
        XsaveDisabledAtBoot = true;
        // setup_clear_cpu_cap(X86_FEATURE_XSAVE): x87 and SSE stay (FXSAVE), everything XSAVE-managed is gone.
        LostFeatures = kernel.MaxFeatures & ~XFeatureMasks.FpSse;
        FallBackToLegacy(kernel);
        InitFpStateSize = LegacySize;
        InitFpStateXfeatures = KernelCfg.DefaultFeatures;
    }

    // fpstate_init_user() on init_fpstate: FXSAVE defaults (FCW 0x37F, MXCSR 0x1F80) or FNSAVE defaults, and
    // XCOMP_BV for compacted buffers (xstate_init_xcomp_bv()).
    private byte[] BuildInitImage()
    {
        var regs = new byte[Math.Max(InitFpStateSize, XsaveEnabled ? XregsStateSize : LegacySize)];
        if (Caps.Fxsr)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(regs.AsSpan(0), 0x037F);
            BinaryPrimitives.WriteUInt32LittleEndian(regs.AsSpan(XsaveOffsets.Mxcsr), 0x1F80);
            BinaryPrimitives.WriteUInt32LittleEndian(regs.AsSpan(XsaveOffsets.MxcsrMask), HardwareMxcsrMask);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(regs.AsSpan(0), 0xFFFF037F);
            BinaryPrimitives.WriteUInt32LittleEndian(regs.AsSpan(4), 0xFFFF0000);
            BinaryPrimitives.WriteUInt32LittleEndian(regs.AsSpan(8), 0xFFFFFFFF);
            BinaryPrimitives.WriteUInt32LittleEndian(regs.AsSpan(20), 0xFFFF0000);
        }
        if (XsaveEnabled && Compacted)
            BinaryPrimitives.WriteUInt64LittleEndian(regs.AsSpan(XsaveOffsets.XcompBv), InitFpStateXfeatures | XFeatureMasks.CompactedFormat);
        return regs;
    }
}
