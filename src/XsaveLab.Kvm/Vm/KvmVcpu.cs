namespace XsaveLab.Kvm.Vm;

/// <summary>A vCPU file descriptor: KVM's per-vCPU XSAVE state (<c>vcpu->arch.xcr0</c>, <c>ia32_xss</c>, <c>pkru</c>,
/// guest CPUID and what it enables) and its guest FPU.</summary>
public sealed partial class KvmVcpu
{
    internal KvmVcpu(KvmVm vm, int id)
    {
        Vm = vm;
        Id = id;
        Fpu = vm.System.Kernel.FpuAllocGuestFpstate(vm.System.Task);
        InitialSize = Fpu.FpState!.Size;
        InitialFeatures = Fpu.FpState.Xfeatures;
    }

    /// <summary>Size and features of the guest fpstate when the vCPU was created (before any reallocation).</summary>
    public int InitialSize { get; }
    public ulong InitialFeatures { get; }

    private Kernel.Tasks.LinuxKernel K => Vm.System.Kernel;
    private Kernel.Tasks.KernelTask T => Vm.System.Task;

    public KvmVm Vm { get; private set; }
    public int Id { get; }
    public FpuGuest Fpu { get; private set; }
    public bool Destroyed { get; private set; }
    public bool HasRun { get; private set; }

    private KvmSystem Sys => Vm.System;
    private KvmCaps Caps => Sys.Caps;
    private HostFpuConfig Host => Sys.Host;

    /// <summary><c>vcpu->arch.xcr0</c>: XFEATURE_MASK_FP at reset.</summary>
    public ulong Xcr0 { get; private set; } = XFeatureMasks.Fp;

    /// <summary><c>vcpu->arch.ia32_xss</c>.</summary>
    public ulong Ia32Xss { get; private set; }

    /// <summary><c>vcpu->arch.pkru</c>.</summary>
    public uint Pkru { get; private set; }

    public bool Cr4OsXsave { get; private set; }

    /// <summary>S_CET and INT_SSP_TAB live in VMCS guest-state fields (VMX) or the VMCB save area (SVM), not in the
    /// XSAVE-managed fpstate.</summary>
    public ulong SCet { get; private set; }
    public ulong IntSspTab { get; private set; }

    public IReadOnlyList<CpuidEntry> Cpuid { get; private set; } = [];
    public ulong GuestSupportedXcr0 { get; private set; }
    public ulong GuestSupportedXss { get; private set; }
    public bool GuestXsave { get; private set; }
    public bool GuestXsaves { get; private set; }
    public bool GuestXfd { get; private set; }
    public bool GuestShstk { get; private set; }
    public bool GuestIbt { get; private set; }

    /// <summary>Observations about this vCPU's configuration (dependency problems, variant notes).</summary>
    public List<string> Notes { get; private set; } = [];

    /// <summary>The copy of <paramref name="o"/> within the copy <paramref name="map"/> is building: its VM and guest
    /// FPU container copied once through the map. Value fields are copied by <see cref="object.MemberwiseClone"/>.</summary>
    internal static KvmVcpu Clone(KvmVcpu o, CloneMap map)
    {
        var c = (KvmVcpu)o.MemberwiseClone();
        map.Add(o, c);
        c.Vm = map.Get(o.Vm, KvmVm.Clone);
        c.Fpu = map.Get(o.Fpu, FpuGuest.Clone);
        c.Notes = [.. o.Notes];
        c.Cpuid = o.Cpuid.ToArray();
        return c;
    }

    /// <summary>The oops that killed the VMM thread during KVM_RUN, or null.</summary>
    public string? KilledBy { get; private set; }

    private SysResult? Dead() => Destroyed ? SysResult.Fail(Errno.EBADF, "vCPU destroyed")
        : KilledBy is { } oops ? SysResult.Fail(Errno.EBADF, $"the VMM was killed by '{oops}'") : null;

    /// <summary>KVM_SET_CPUID2: <c>kvm_set_cpuid()</c> → <c>kvm_check_cpuid()</c> (enables XFD features of guest
    /// CPUID 0xD in the guest FPU, needing guest permission) → <c>kvm_vcpu_after_set_cpuid()</c>.</summary>
    public SysResult SetCpuid2(IReadOnlyList<CpuidEntry> entries)
    {
        if (Dead() is { } d) return d;
        if (entries.Count > 256)
            return SysResult.Fail(Errno.E2BIG, "nent > KVM_MAX_CPUID_ENTRIES");
        if (HasRun && !entries.SequenceEqual(Cpuid))
            return SysResult.Fail(Errno.EINVAL, "guest CPUID cannot change after KVM_RUN (kvm_cpuid_check_equal)");
        Notes.Clear();

        var d0 = Find(entries, 0xD, 0);
        ulong xfeatures = d0 is { } e0 ? e0.Eax | (ulong)e0.Edx << 32 : 0;
        long er = K.FpuEnableGuestXfdFeatures(T, Fpu, xfeatures & XFeatureMasks.UserDynamic);
        if (er < 0)
            return SysResult.Fail(ErrnoNames.Of(er), $"fpu_enable_guest_xfd_features(0x{xfeatures & XFeatureMasks.UserDynamic:x}): guest permission lacks it (ARCH_REQ_XCOMP_GUEST_PERM not granted)");

        var l1 = Find(entries, 1, 0);
        var l7 = Find(entries, 7, 0);
        var d1 = Find(entries, 0xD, 1);
        bool shstk = l7 is { } s7 && (s7.Ecx & (1u << 7)) != 0 && Caps.Shstk;
        if (Host.Variant.DeferredGuestSupervisor && d1 is { } x1 && ((x1.Ecx | (ulong)x1.Edx << 32) & Host.GuestSupervisorMask & Caps.SupportedXss) != 0)
        {
            long g = K.FpuEnableGuestXfdFeatures(T, Fpu, Host.GuestSupervisorMask);
            Notes.Add(g == 0 ? $"deferred: guest fpstate grown to {Numbers.Bytes(Fpu.FpState!.Size)} for CET-S" : $"deferred: growing for CET-S failed ({ErrnoNames.Result(g)})");
        }

        Cpuid = entries.ToArray();
        // cpuid_get_supported_xcr0(): from 0xD.0 alone; the XSAVE bit of leaf 1 only gates CR4.OSXSAVE.
        GuestSupportedXcr0 = xfeatures & Caps.SupportedXcr0;
        GuestSupportedXss = d1 is { } e1 ? (e1.Ecx | (ulong)e1.Edx << 32) & Caps.SupportedXss : 0;
        GuestXsave = l1 is { } a && (a.Ecx & (1u << 26)) != 0 && Host.XsaveEnabled;
        GuestXsaves = d1 is { } b && (b.Eax & 8) != 0 && (Caps.D1Eax & 8) != 0;
        GuestXfd = d1 is { } c && (c.Eax & 16) != 0 && Caps.Xfd;
        GuestShstk = shstk;
        GuestIbt = l7 is { } i7 && (i7.Edx & (1u << 20)) != 0 && Caps.Ibt;
        CheckDependencies();
        return SysResult.Success(0, $"guest XCR0 ⊆ 0x{GuestSupportedXcr0:x}, XSS ⊆ 0x{GuestSupportedXss:x}, guest fpstate {Numbers.Bytes(Fpu.FpState!.Size)}, uabi_size {Numbers.Int(Fpu.UabiSize)}");
    }

    public SysResult GetCpuid2(out IReadOnlyList<CpuidEntry> entries)
    {
        entries = Cpuid;
        return Dead() ?? SysResult.Success(Cpuid.Count);
    }

    private void CheckDependencies()
    {
        ulong x = GuestSupportedXcr0 | XFeatureMasks.Fp;
        var err = XcrRules.Check(x, x);
        if (err is not null)
            Notes.Add($"guest CPUID 0xd.0 enumerates XCR0 0x{x:x}, which XSETBV rejects ({err}): a guest enabling every enumerated feature gets #GP");
        if (!Host.Variant.CetKernelSupported && GuestShstk)
            Notes.Add("no CET-S space in the guest fpstate: PL0-2_SSP would need manual switching");
    }

    /// <summary>What the guest's CPUID instruction returns: the vCPU's table with KVM's runtime updates
    /// (<c>kvm_update_cpuid_runtime()</c>): CPUID.1:ECX.OSXSAVE = CR4.OSXSAVE; 0xD.0 EBX = xstate_required_size(XCR0,
    /// standard); 0xD.1 EBX = xstate_required_size(XCR0 | IA32_XSS, compacted) when XSAVES or XSAVEC is enumerated
    /// (6.17 uses XCR0 alone; 6.18 adds the guest's XSS — the exact 6.18 expression is not verified).</summary>
    public CpuidEntry GuestCpuid(uint leaf, uint subleaf)
    {
        var e = Find(Cpuid, leaf, leaf is 7 or 0xD or 0x1D or 0x1E ? subleaf : 0) ?? new CpuidEntry(leaf, subleaf, 0, 0, 0, 0, 0);
        if (leaf == 1)
            e = e with { Ecx = Cr4OsXsave ? e.Ecx | (1u << 27) : e.Ecx & ~(1u << 27) };
        else if (leaf == 0xD && subleaf == 0)
            e = e with { Ebx = (uint)Caps.XstateRequiredSize(Xcr0, false) };
        else if (leaf == 0xD && subleaf == 1 && (e.Eax & 0xA) != 0)
            e = e with { Ebx = (uint)Caps.XstateRequiredSize(Xcr0 | (Caps.Release.HasCet() ? Ia32Xss : 0), true) };
        return e;
    }

    private static CpuidEntry? Find(IReadOnlyList<CpuidEntry> e, uint f, uint i)
    {
        foreach (var x in e)
            if (x.Function == f && x.Index == i)
                return x;
        return null;
    }

    /// <summary>Closes the vCPU fd: <c>kvm_arch_vcpu_destroy()</c> → <c>fpu_free_guest_fpstate()</c>.</summary>
    public SysResult Destroy()
    {
        if (Dead() is { } d) return d;
        K.FpuFreeGuestFpstate(Fpu);
        if (Fpu.FpState is not null)
            return SysResult.Fail(Errno.EBUSY, "fpu_free_guest_fpstate() refused (in use)");
        Destroyed = true;
        Vm.Remove(Id);
        return SysResult.Success();
    }
}

/// <summary>The XCR0 checks of <c>__kvm_set_xcr()</c> (arch/x86/kvm/x86.c): x87 and AVX-without-SSE first, then bits
/// outside the guest-supported XCR0, then the remaining combination rules, which are the architecture's
/// (<see cref="Arch.Sanity.Xcr0Rules"/>).</summary>
public static class XcrRules
{
    /// <summary>Null when <paramref name="xcr0"/> is acceptable for a guest allowed <paramref name="guestSupported"/>,
    /// else the rule it breaks.</summary>
    public static string? Check(ulong xcr0, ulong guestSupported)
    {
        var broken = Arch.Sanity.Xcr0Rules.FirstBroken(xcr0);
        if (broken is { Code: "XCR0_X87" or "XCR0_AVX_NEEDS_SSE" })
            return broken.Message;
        ulong outside = xcr0 & ~(guestSupported | XFeatureMasks.Fp);
        if (outside != 0)
            return $"bits 0x{outside:x} not in guest-supported XCR0 0x{guestSupported:x}";
        return broken?.Message;
    }
}
