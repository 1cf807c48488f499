using XsaveLab.Arch.Layout;
using XsaveLab.Arch.Sanity;

namespace XsaveLab.Kvm.Migration;

/// <summary>The three ways XSAVE state moves between hosts.</summary>
public enum MigrationPath
{
    /// <summary>Raw KVM snapshot: KVM_GET_XSAVE2 on one host, KVM_SET_XSAVE of the same bytes on the other (Firecracker,
    /// cloud-hypervisor).</summary>
    KvmSnapshot,

    /// <summary>Register by register (QEMU's vmstate names each register).</summary>
    NamedRegisters,

    /// <summary>A process checkpointed and restored (CRIU) or replayed (rr).</summary>
    Process,
}

/// <summary>The answer for one path: compatible or not, the components that decide it, and why.</summary>
public sealed record MigrationVerdict(MigrationPath Path, bool Compatible, ulong Components, IReadOnlyList<string> Reasons);

/// <summary><c>compat A B</c>: can state move from <see cref="From"/> to <see cref="To"/>, per path; every component
/// either host has, with its place on each; and the largest guest feature set both run with identical layouts.</summary>
public sealed record MigrationReport(
    MigrationHost From, MigrationHost To, IReadOnlyList<MigrationVerdict> Verdicts, IReadOnlyList<ComponentComparison> Components,
    ulong CommonXcr0, ulong CommonXss)
{
    public MigrationVerdict Verdict(MigrationPath path) => Verdicts.First(v => v.Path == path);

    public bool AllCompatible => Verdicts.All(v => v.Compatible);
}

/// <summary>Migration compatibility from the rules: CPUID 0xD of both hosts, the KVM model's supported masks and the
/// kernel model's boot.</summary>
public static class MigrationCheck
{
    public static MigrationReport Check(CpuProfile from, CpuProfile to, KernelVariant? variant = null, KvmRelease? release = null)
    {
        variant ??= KernelVariants.V6_17;
        var rel = release ?? KvmReleases.For(variant);
        var a = MigrationHost.For(from, variant, rel);
        var b = MigrationHost.For(to, variant, rel);
        var (cx, cs) = GuestTemplates.CommonMasks([a, b]);
        ulong all = from.SupportedXcr0 | from.SupportedXss | to.SupportedXcr0 | to.SupportedXss;
        return new MigrationReport(a, b, [KvmSnapshot(a, b), NamedRegisters(a, b), Process(a, b)],
            ComponentComparison.Compare(from, to, all), cx, cs);
    }

    /// <summary>KVM_SET_XCRS refuses an XCR0 outside the guest's supported mask (<c>__kvm_set_xcr()</c>), KVM_SET_XSAVE
    /// an XSTATE_BV outside it (<c>fpu_copy_uabi_to_guest_fpstate()</c> → <c>validate_user_xstate_header()</c>), and
    /// KVM_SET_MSRS an IA32_XSS bit KVM does not support. Where every bit is accepted, the image is copied by the
    /// destination's standard offsets (<c>copy_uabi_to_xstate()</c>): a component placed elsewhere on the source is
    /// loaded into the wrong registers, silently. The guest's own compacted images (XSAVEC/XSAVES in guest memory)
    /// depend on each component's 64-byte alignment (CPUID 0xD.i ECX[1]), which the hardware of the destination applies.</summary>
    private static MigrationVerdict KvmSnapshot(MigrationHost a, MigrationHost b)
    {
        var reasons = new List<string>();
        ulong missing = (a.GuestXcr0 & ~b.GuestXcr0) | (a.GuestXss & ~b.GuestXss);
        foreach (var r in ComponentComparison.Compare(a.Cpu, b.Cpu, missing))
            reasons.Add($"{r.Name}: guest state on {a.Name} that KVM on {b.Name} does not support (KVM_SET_XCRS / KVM_SET_XSAVE / KVM_SET_MSRS fail with -EINVAL)");
        ulong shared = (a.GuestXcr0 | a.GuestXss) & ~missing;
        var moved = ComponentComparison.Compare(a.Cpu, b.Cpu, shared).Where(r => r.Differs).ToArray();
        foreach (var r in moved)
            reasons.Add($"{r.Describe(a.Name, b.Name)} (KVM accepts the bytes: silent corruption)");
        ulong decide = missing | moved.Aggregate(0UL, (m, r) => m | 1UL << r.Number);
        return new MigrationVerdict(MigrationPath.KvmSnapshot, decide == 0, decide, reasons);
    }

    /// <summary>QEMU moves each register by name: the destination must have every feature the guest has (its CPUID
    /// is kept); offsets do not matter.</summary>
    private static MigrationVerdict NamedRegisters(MigrationHost a, MigrationHost b)
    {
        ulong missing = (a.GuestXcr0 & ~b.GuestXcr0) | (a.GuestXss & ~b.GuestXss);
        var reasons = ComponentComparison.Compare(a.Cpu, b.Cpu, missing)
            .Select(r => $"{r.Name}: the guest has it on {a.Name}; KVM on {b.Name} cannot give it").ToList();
        return new MigrationVerdict(MigrationPath.NamedRegisters, missing == 0, missing, reasons);
    }

    /// <summary>A checkpointed process keeps its XSAVE images (signal frames, NT_X86_XSTATE, its own XSAVE buffers) in
    /// the standard format and may have cached the sizes: every user xfeature of the source must be enabled on the
    /// destination at the same standard offset and size, and neither CPUID 0xD.0 EBX (the NT_X86_XSTATE length,
    /// <c>fpu_user_cfg.max_size</c>) nor AT_MINSIGSTKSZ may grow, or buffers and alternate signal stacks sized on
    /// the source overflow.</summary>
    private static MigrationVerdict Process(MigrationHost a, MigrationHost b)
    {
        var reasons = new List<string>();
        ulong missing = a.UserXcr0 & ~b.UserXcr0;
        foreach (var r in ComponentComparison.Compare(a.Cpu, b.Cpu, missing))
            reasons.Add($"{r.Name}: in XCR0 on {a.Name}, not on {b.Name} (the restored state and any use of it fail)");
        var moved = ComponentComparison.Compare(a.Cpu, b.Cpu, a.UserXcr0 & ~missing)
            .Where(r => r.From is { } f && r.To is { } t && (f.Offset != t.Offset || f.Size != t.Size)).ToArray();
        foreach (var r in moved)
            reasons.Add($"{r.Describe(a.Name, b.Name)} (images are read from the wrong place)");
        bool grows = false;
        if (b.UserSize > a.UserSize)
        {
            grows = true;
            reasons.Add($"CPUID 0xd.0 EBX / NT_X86_XSTATE length grows from {Numbers.Int(a.UserSize)} to {Numbers.Bytes(b.UserSize)} (buffers sized on {a.Name} are too small)");
        }
        if (b.MinSigStkSz > a.MinSigStkSz)
        {
            grows = true;
            reasons.Add($"AT_MINSIGSTKSZ grows from {a.MinSigStkSz} to {b.MinSigStkSz} (alternate signal stacks sized on {a.Name} overflow)");
        }
        ulong decide = missing | moved.Aggregate(0UL, (m, r) => m | 1UL << r.Number);
        return new MigrationVerdict(MigrationPath.Process, decide == 0 && !grows, decide, reasons);
    }
}
