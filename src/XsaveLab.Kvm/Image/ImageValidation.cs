using XsaveLab.Kernel.Uabi;
using XsaveLab.Kernel.Uabi.CoreNotes;

namespace XsaveLab.Kvm.Image;

/// <summary>Would a consumer accept this XSAVE image on this CPU and kernel? Each answer comes from running the
/// model's own code path on the image — the instruction model's <see cref="XsaveCpu.Xrstor"/> and
/// <see cref="XsaveCpu.Xrstors"/>, the signal-return path <see cref="Sigframes.FpuRestoreSig"/>, the regset path
/// <see cref="PtraceRegsets.Set"/> and the vCPU ioctl <see cref="KvmVcpu.SetXsave"/> — on a freshly booted model,
/// so the rule and byte reported are the ones those paths report.</summary>
/// <remarks>The machine is <see cref="FpuSystem.Boot"/> of the CPU and kernel variant: XCR0 = fpu_user_cfg.max_features,
/// IA32_XSS and IA32_XFD as <c>fpu__init_cpu_xstate()</c> programs them, a task with the default fpstate (no
/// dynamic-feature permission) and FXSAVE's MXCSR_MASK as the instruction model derives it for the CPU.</remarks>
public static class ImageValidation
{
    /// <summary>Validates <paramref name="image"/> for <paramref name="consumer"/>. <paramref name="kernel"/> defaults
    /// to <see cref="KernelVariants.Default"/>; <paramref name="kvm"/> (release and flavour, for
    /// <see cref="ImageConsumer.Kvm"/>) to <see cref="KvmSettings.For"/> of the CPU and kernel. A CPU the KVM model
    /// cannot boot (<see cref="KvmLimits.Problem"/>) is the caller's error for <see cref="ImageConsumer.Kvm"/>.</summary>
    public static ImageVerdict Validate(ReadOnlySpan<byte> image, ImageConsumer consumer, CpuProfile cpu, KernelVariant? kernel = null,
        KvmSettings? kvm = null)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        kernel ??= KernelVariants.Default;
        var verdict = new ImageVerdict(consumer, cpu.Name, kernel.Name, image.Length, false, "", "", "", null);
        return consumer switch
        {
            ImageConsumer.Xrstor or ImageConsumer.Xrstors => Restore(image, consumer == ImageConsumer.Xrstors, FpuSystem.Boot(cpu, kernel), verdict),
            ImageConsumer.Sigreturn => Sigreturn(image, Uabi(cpu, kernel), verdict),
            ImageConsumer.Ptrace => Ptrace(image, Uabi(cpu, kernel), verdict),
            ImageConsumer.Kvm => Kvm(image, kvm ?? KvmSettings.For(cpu, kernel), verdict),
            _ => throw new ArgumentOutOfRangeException(nameof(consumer)),
        };
    }

    /// <summary>Validates every image of a file's contents: an ELF core (by its magic) gives one image per thread,
    /// its NT_X86_XSTATE note; anything else is one raw image, judged as it stands. A core that cannot be read is a
    /// <see cref="FormatException"/> naming the field and offset (<see cref="ElfFormatError"/>).</summary>
    public static ImageValidationReport ValidateFile(byte[] file, string source, ImageConsumer consumer, CpuProfile cpu,
        KernelVariant? kernel = null, KvmSettings? kvm = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Length < 4 || file[0] != 0x7F || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F')
            return new(source, false, [new(null, Validate(file, consumer, cpu, kernel, kvm))]);
        var core = ElfCoreFile.Read(file, source);
        if (core.Error is { } error)
            throw new FormatException(error.ToString());
        var images = CoreThreadNotes.Group(core.Notes)
            .Select(t => (Tid: (int?)t.Pid, Note: t.Find(NoteType.NtX86Xstate)))
            .Where(t => t.Note is not null)
            .Select(t => new ThreadVerdict(t.Tid, Validate(t.Note!.Desc, consumer, cpu, kernel, kvm)))
            .ToList();
        if (images.Count == 0)
            throw new FormatException($"{source}: NT_X86_XSTATE: the core has no NT_X86_XSTATE note (no XSAVE state was written)");
        return new(source, true, images);
    }

    /// <summary>The UABI configuration of the booted kernel, with the MXCSR_MASK the instruction model gives the
    /// CPU (what FXSAVE stores, from which <c>fpu__init_system_mxcsr()</c> takes mxcsr_feature_mask).</summary>
    private static UabiConfig Uabi(CpuProfile cpu, KernelVariant kernel)
    {
        var sys = FpuSystem.Boot(cpu, kernel);
        return UabiConfig.FromSystem(sys, sys.CreateCpu().MxcsrMask);
    }

    /// <summary>A task as a new process has it: the default fpstate, PKRU = init_pkru_value when OSPKE.</summary>
    private static UabiTask NewTask(UabiConfig cfg) => new(cfg.NewDefaultFpstate(), cfg.OsPke ? UabiTask.InitPkruValue : 0);

    private static ImageVerdict Restore(ReadOnlySpan<byte> image, bool xrstors, FpuSystem sys, ImageVerdict v)
    {
        var cpu = sys.CreateCpu();
        cpu.Cpl = xrstors ? 0 : 3;
        string name = xrstors ? "XRSTORS" : "XRSTOR";
        v = v with
        {
            Path = xrstors
                ? $"XRSTORS at CPL 0 (SDM Vol.1 §13.12, Vol.2 XRSTORS): XCR0 0x{cpu.Xcr0:x} | IA32_XSS 0x{cpu.Xss:x}, RFBM = all ones"
                : $"XRSTOR at CPL 3 (SDM Vol.1 §13.8, Vol.2 XRSTOR): XCR0 0x{cpu.Xcr0:x}, IA32_XFD 0x{cpu.Xfd:x}, RFBM = all ones",
        };
        const ulong rfbm = ~0UL;
        if (image.Length < XsaveOffsets.ExtendedStart)
            return Short(v, name, XsaveOffsets.ExtendedStart);
        // The model reads only what the instruction reads; a buffer long enough for any layout of this CPU lets it
        // decide first, and the image's own length is then compared with what the accepted image needs.
        ulong enabled = cpu.Xcr0 | cpu.Xss;
        int room = Math.Max(image.Length, Arch.Layout.XStateGeometry.Size(sys.Profile, enabled, false) + Arch.Layout.XStateGeometry.Size(sys.Profile, enabled, true));
        var area = new byte[room];
        image.CopyTo(area);
        var fault = xrstors ? cpu.Xrstors(area, 0, rfbm) : cpu.Xrstor(area, 0, rfbm);
        if (fault.IsFault)
            return v with { Outcome = Outcome(fault.Kind), Rule = $"{name}: {fault.Rule}", Offset = fault.Offset };
        int end = cpu.RestoreEnd(area, rfbm, xrstors);
        if (image.Length < end)
            return Short(v, name, end);
        return v with { Accepted = true, Outcome = "loaded", Rule = $"{name} passes every check on the header, MXCSR and the loaded components" };
    }

    private static ImageVerdict Short(ImageVerdict v, string name, int needed) => v with
    {
        Outcome = "image too short",
        Rule = $"{name} reads {Numbers.Bytes(needed)} for this header (legacy region, XSAVE header and the components it loads); the image has {Numbers.Int(v.Length)}",
        Offset = v.Length,
    };

    private static string Outcome(FaultKind kind) => kind switch
    {
        FaultKind.InvalidOpcode => "#UD",
        FaultKind.GeneralProtection => "#GP",
        FaultKind.DeviceNotAvailable => "#NM",
        _ => "loaded",
    };

    private static ImageVerdict Sigreturn(ReadOnlySpan<byte> image, UabiConfig cfg, ImageVerdict v)
    {
        v = v with { Path = "rt_sigreturn → restore_sigcontext() → fpu__restore_sig() → __fpu_restore_sig(): check_xstate_in_sigframe(), then XRSTOR of the frame (FXRSTOR for a legacy frame)" };
        if (!cfg.UseXsave)
            return v with { Outcome = "not modelled", Rule = "the kernel does not use XSAVE on this CPU: FXSAVE-only frames are not modelled" };
        if (image.Length < XsaveOffsets.ExtendedStart)
            return v with { Outcome = "SIGSEGV", Rule = $"__fpu_restore_sig(): the frame's fpstate holds at least the legacy region and header ({Numbers.Bytes(XsaveOffsets.ExtendedStart)}); the image has {v.Length}", Offset = v.Length };
        var r = Sigframes.FpuRestoreSig(cfg, NewTask(cfg), image.ToArray());
        if (r.Sigsegv)
            return v with { Outcome = "SIGSEGV", Rule = r.Rule, Offset = r.Offset };
        return v with { Accepted = true, Outcome = r.FxOnly ? "loaded as an FX-only frame" : "loaded", Rule = r.Rule, Offset = r.Offset };
    }

    private static ImageVerdict Ptrace(ReadOnlySpan<byte> image, UabiConfig cfg, ImageVerdict v)
    {
        v = v with { Path = "PTRACE_SETREGSET NT_X86_XSTATE → ptrace_regset() → xstateregs_set() → copy_uabi_to_xstate() → validate_user_xstate_header()" };
        var r = PtraceRegsets.Set(cfg, NewTask(cfg), NoteType.NtX86Xstate, image);
        return r.Ok
            ? v with { Accepted = true, Outcome = "loaded", Rule = $"xstateregs_set(): {Numbers.Bytes(r.IovLen)} copied into the task's fpstate" }
            : v with { Outcome = "-" + r.Errno.Name(), Rule = r.Rule, Offset = r.Result.Offset };
    }

    private static ImageVerdict Kvm(ReadOnlySpan<byte> image, KvmSettings settings, ImageVerdict v)
    {
        var sys = new KvmSystem(settings);
        var (created, vcpu) = sys.CreateVm().CreateVcpu(0);
        if (vcpu is null)
            return v with { Outcome = "not modelled", Rule = $"KVM_CREATE_VCPU: {created}" };
        v = v with { Path = $"KVM_SET_XSAVE ({Numbers.Bytes(vcpu.Fpu.UabiSize)}, guest_fpu.uabi_size) → fpu_copy_uabi_to_guest_fpstate(…, kvm_caps.supported_xcr0 0x{sys.Caps.SupportedXcr0:x}) → copy_uabi_to_xstate()" };
        var r = vcpu.SetXsave(image);
        return r.Ok
            ? v with { Accepted = true, Outcome = "loaded", Rule = "fpu_copy_uabi_to_guest_fpstate(): copied into the guest fpstate" }
            : v with { Outcome = "-" + r.Errno.Name(), Rule = r.Rule, Offset = r.Offset };
    }
}
