namespace XsaveLab.Kernel.Tasks;

/// <summary>What one save or restore of an fpstate did: the components asked for (RFBM ∩ enabled), the
/// components the instruction actually moved, and the bytes that took.</summary>
public readonly record struct XstateTransfer(XsaveFault Fault, ulong Requested, ulong Moved, int Bytes);

/// <summary>The context-switch rules of the FPU core and the transfers they cause, for one booted
/// <see cref="FpuSystem"/>: <c>switch_fpu()</c>, <c>fpregs_restore_userregs()</c>, <c>fpu_swap_kvm_fpstate()</c>
/// and <c>xfd_update_state()</c> decide; <see cref="Save"/> and <see cref="Restore"/> run the instruction on the
/// buffer and count what it moved. The task model (<see cref="LinuxKernel"/>) and any faster scheduler over
/// the same system call these, so they take the same decisions and move the same bytes. Allocation-free.</summary>
/// <remarks>
/// Byte counts are what the instruction writes or reads (SDM Vol.1 §13.4, §13.7–13.11): x87 moves its 160-byte
/// legacy part, SSE its 256 bytes of XMM registers plus MXCSR/MXCSR_MASK (8), every other component its CPUID
/// size. A save writes XSTATE_BV (8) and in compacted form XCOMP_BV (8); a restore reads the whole 64-byte
/// header. A save moves the components it does not skip: XSAVE writes all of RFBM, XSAVEC skips those in
/// their initial configuration (XINUSE, read back from the saved XSTATE_BV), XSAVEOPT and XSAVES also skip
/// unmodified ones when the modified optimisation applies (§13.6). A restore loads RFBM ∩ XSTATE_BV.
/// Alignment padding of compacted components is reserved but never written, so it is not counted.
/// </remarks>
public sealed class FpuSwitchPolicy
{
    private const int X87Bytes = XsaveOffsets.X87Size, SseBytes = XsaveOffsets.XmmSpaceSize + XsaveOffsets.MxcsrAndFlagsSize,
        SaveHeaderWord = 8, RestoreHeaderBytes = XsaveOffsets.HeaderSize;

    private readonly int[] _size = new int[64];

    // One-entry caches: a workload moves the same few masks over and over.
    private ulong _lastSaveMask = ulong.MaxValue, _lastRestoreMask = ulong.MaxValue;
    private int _lastSaveBytes, _lastRestoreBytes;

    public FpuSwitchPolicy(FpuSystem system)
    {
        System = system;
        _size[0] = X87Bytes;
        _size[1] = SseBytes;
        for (int i = 2; i < 63; i++)
            _size[i] = system.FeatureSize(i);
        bool xsaves = system.SaveInstruction == SaveInstruction.Xsaves;
        SaveEnabled = xsaves ? system.Xcr0 | system.Xss : system.Xcr0;
        RestoreEnabled = system.Caps.Xsaves ? system.Xcr0 | system.Xss : system.Xcr0;
    }

    public FpuSystem System { get; }

    /// <summary>A copy with its own one-entry caches; the per-feature sizes are fixed at boot and shared.</summary>
    internal FpuSwitchPolicy Clone() => (FpuSwitchPolicy)MemberwiseClone();

    /// <summary>The features a save can touch: XCR0, with IA32_XSS for XSAVES (fixed after <c>fpu__init_cpu_xstate()</c>).</summary>
    public ulong SaveEnabled { get; }

    /// <summary>The features a restore can touch: XCR0, with IA32_XSS for XRSTORS.</summary>
    public ulong RestoreEnabled { get; }

    /// <summary><c>switch_fpu(old, cpu)</c> (asm/fpu/sched.h): the outgoing task's registers are saved unless
    /// TIF_NEED_FPU_LOAD says memory is already current, or it has no user FPU state (kernel thread).</summary>
    public static bool SwitchFpuSaves(bool needFpuLoad, bool kernelThread = false) => !needFpuLoad && !kernelThread;

    /// <summary><c>fpregs_state_valid()</c>: this CPU's registers still hold the fpu's state, so
    /// <c>fpregs_restore_userregs()</c> skips the restore.</summary>
    public static bool FpregsStateValid(bool ownsRegisters, int lastCpu, int cpu) => ownsRegisters && lastCpu == cpu;

    /// <summary><c>fpu_swap_kvm_fpstate()</c>: the outgoing buffer is saved unless it is confidential (its state
    /// never reaches memory) or TIF_NEED_FPU_LOAD says memory is already current.</summary>
    public static bool SwapKvmSaves(bool confidential, bool needFpuLoad) => !confidential && !needFpuLoad;

    /// <summary><c>fpu_swap_kvm_fpstate()</c>: the incoming buffer is restored unless it is confidential (then
    /// only XFD is updated).</summary>
    public static bool SwapKvmRestores(bool confidential) => !confidential;

    /// <summary><c>xfd_update_state()</c>: IA32_XFD is written only with the dynamic-state key and only when the
    /// per-CPU cache differs from the fpstate's xfd.</summary>
    public bool XfdNeedsWrite(ulong cachedXfd, ulong fpstateXfd) => System.DynamicStateEnabled && cachedXfd != fpstateXfd;

    /// <summary>RFBM of <c>restore_fpregs_from_fpstate(fpstate, mask)</c>: fpu_kernel_cfg.max_features ∩ mask.</summary>
    public ulong RestoreRfbm(ulong mask) => System.KernelCfg.MaxFeatures & mask;

    /// <summary><c>os_xsave()</c> of <paramref name="regs"/> at model address <paramref name="address"/> with
    /// RFBM = <paramref name="rfbm"/> (fpstate->xfeatures), using the booted save instruction.</summary>
    public XstateTransfer Save(XsaveCpu cpu, Span<byte> regs, ulong address, ulong rfbm)
    {
        ulong requested = rfbm & SaveEnabled;
        // The modified optimisation is read from the processor's tracking before the instruction runs; the
        // XINUSE skipping is read back from XSTATE_BV afterwards.
        bool modOpt = ModifiedOptimisationApplies(cpu, address, requested);
        ulong modified = cpu.XModified;
        var save = System.SaveInstruction;
        XsaveFault f = save switch
        {
            SaveInstruction.Xsaves => cpu.Xsaves(regs, address, rfbm),
            SaveInstruction.Xsavec => cpu.Xsavec(regs, address, rfbm),
            SaveInstruction.Xsaveopt => cpu.Xsaveopt(regs, address, rfbm),
            _ => cpu.Xsave(regs, address, rfbm),
        };
        if (f.IsFault)
            return new XstateTransfer(f, requested, 0, 0);
        ulong moved = save == SaveInstruction.Xsave
            ? requested
            : BinaryPrimitives.ReadUInt64LittleEndian(regs[XsaveOffsets.XstateBv..]) & rfbm & (modOpt ? modified : ~0UL);
        if (moved != _lastSaveMask)
        {
            _lastSaveMask = moved;
            _lastSaveBytes = Data(moved) + (System.Compacted ? 2 * SaveHeaderWord : SaveHeaderWord);
        }
        return new XstateTransfer(f, requested, moved, _lastSaveBytes);
    }

    /// <summary>XRSTORS (or XRSTOR) of <paramref name="regs"/> with RFBM = <paramref name="rfbm"/>.</summary>
    public XstateTransfer Restore(XsaveCpu cpu, ReadOnlySpan<byte> regs, ulong address, ulong rfbm)
    {
        XsaveFault f = System.Caps.Xsaves ? cpu.Xrstors(regs, address, rfbm) : cpu.Xrstor(regs, address, rfbm);
        ulong requested = rfbm & RestoreEnabled;
        if (f.IsFault)
            return new XstateTransfer(f, requested, 0, 0);
        ulong moved = requested & BinaryPrimitives.ReadUInt64LittleEndian(regs[XsaveOffsets.XstateBv..]);
        if (moved != _lastRestoreMask)
        {
            _lastRestoreMask = moved;
            _lastRestoreBytes = Data(moved) + RestoreHeaderBytes;
        }
        return new XstateTransfer(f, requested, moved, _lastRestoreBytes);
    }

    // XSAVEOPT/XSAVES may skip unmodified components only when XRSTOR_INFO matches (SDM Vol.1 §13.6).
    private bool ModifiedOptimisationApplies(XsaveCpu cpu, ulong address, ulong rfbm)
    {
        var save = System.SaveInstruction;
        if (save is not (SaveInstruction.Xsaves or SaveInstruction.Xsaveopt) || !cpu.Options.ModifiedOptimization)
            return false;
        if (cpu.LastRestore is not { } r || r.Address != address || r.Cpl != cpu.Cpl || r.Xcr0 != cpu.Xcr0 || r.Xss != cpu.Xss)
            return false;
        return save == SaveInstruction.Xsaveopt
            ? r.Kind == RestoreKind.XrstorStandard
            : r.Kind == RestoreKind.Xrstors && r.CompMask == (rfbm | XFeatureMasks.CompactedFormat);
    }

    private int Data(ulong mask)
    {
        int n = 0;
        for (mask &= ~XFeatureMasks.CompactedFormat; mask != 0; mask &= mask - 1)
            n += _size[BitOperations.TrailingZeroCount(mask)];
        return n;
    }
}
