namespace XsaveLab.Kernel.Uabi;

/// <summary>The UABI paths on the task model of <see cref="LinuxKernel"/>: a thin adapter that views a
/// <see cref="KernelTask"/>'s active <see cref="FpState"/> (sharing its buffer) and thread.pkru.</summary>
/// <remarks>The target must be stopped (not running on a model CPU): as in the kernel, its fpstate buffer is
/// then up to date (saved at the last switch) and a SET invalidates the register cache
/// (<c>fpu_force_restore()</c> → last_cpu = −1, so the next return to user space restores from memory).</remarks>
public static class KernelTaskUabi
{
    /// <summary>The kernel's UABI configuration (its boot, and the model CPU's MXCSR_MASK).</summary>
    public static UabiConfig Config(LinuxKernel kernel) => kernel.UabiConfig;

    /// <summary>The task's own fpstate object and thread.pkru; <see cref="WriteBack"/> returns the latter.</summary>
    public static UabiTask View(KernelTask task) =>
        new(task.Fpu.FpState, task.Pkru) { ShstkEnabled = (task.ShstkFeatures & ArchPrctl.ShstkShstk) != 0 };

    public static RegsetResult PtraceGetRegset(UabiConfig cfg, KernelTask task, int noteType, int iovLen)
    {
        RequireStopped(task);
        return PtraceRegsets.Get(cfg, View(task), noteType, iovLen);
    }

    public static RegsetResult PtraceSetRegset(UabiConfig cfg, KernelTask task, int noteType, ReadOnlySpan<byte> iov)
    {
        RequireStopped(task);
        var view = View(task);
        var r = PtraceRegsets.Set(cfg, view, noteType, iov);
        WriteBack(view, task);
        return r;
    }

    /// <summary>The task's signal-frame FPU image (64-bit frame) written into <paramref name="frame"/>.</summary>
    public static void CopyFpstateToSigframe(UabiConfig cfg, KernelTask task, Span<byte> frame) =>
        Sigframes.CopyFpstateToSigframe(cfg, View(task), frame);

    /// <summary>sigreturn's FPU part; the registers end up in the task's buffer (last_cpu = −1).</summary>
    public static SigreturnResult FpuRestoreSig(UabiConfig cfg, KernelTask task, byte[]? frame)
    {
        RequireStopped(task);
        var view = View(task);
        var r = Sigframes.FpuRestoreSig(cfg, view, frame);
        view.RegistersInvalidated = true;
        WriteBack(view, task);
        return r;
    }

    private static void WriteBack(UabiTask view, KernelTask task)
    {
        task.Pkru = view.Pkru;
        if (view.RegistersInvalidated)
            task.Fpu.LastCpu = -1;
    }

    private static void RequireStopped(KernelTask task)
    {
        if (task.State == TaskState.Running)
            throw new InvalidOperationException($"{task} is running; the UABI paths act on a stopped task's saved fpstate");
    }
}
