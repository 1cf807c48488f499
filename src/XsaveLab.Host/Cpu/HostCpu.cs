namespace XsaveLab.Host.Cpu;

/// <summary>The CPU this process runs on, read with the CPUID instruction.</summary>
/// <remarks>Uses <see cref="X86Base.CpuId"/> (no native code). Only Linux x86-64 is served: the rest of the
/// host layer (kernel log, arch_prctl, KVM) is Linux-only, and a profile that cannot be compared with its
/// kernel would be misleading. Leaves read: 0, 1, 7.0, 7.1, 0xD.0..63, 0x1D, 0x1E, 0x80000000..4,
/// 0x80000008 — the ones a compact profile keeps (<see cref="CpuidTextWriter.IsRelevant"/>).</remarks>
public static class HostCpu
{
    public const string Name = "host";
    public const string Source = "live CPUID";

    /// <summary>Why the host cannot be read, or null when it can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
            return $"the host is not Linux ({RuntimeInformation.OSDescription})";
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return $"the process is not x86-64 ({RuntimeInformation.ProcessArchitecture})";
        if (!X86Base.IsSupported)
            return "the runtime does not expose CPUID (X86Base.IsSupported is false)";
        return null;
    }

    /// <summary>Reads the live CPU and validates it (<see cref="Refusal"/>). On failure <paramref name="profile"/>
    /// is null and <paramref name="reason"/> says why; on success the reason is empty.</summary>
    public static bool TryRead([NotNullWhen(true)] out CpuProfile? profile, out string reason)
    {
        profile = null;
        if (Unavailable() is { } why)
        {
            reason = why;
            return false;
        }
        var live = new CpuProfile(Name, Source, ReadLeaves());
        if (Refusal(live) is { } refused)
        {
            reason = refused;
            return false;
        }
        reason = "";
        profile = live;
        return true;
    }

    /// <summary>Why the models cannot be built from the live profile <paramref name="live"/>, or null when they
    /// can. A hypervisor may present CPUID values no processor has, so the live CPU passes the same
    /// <see cref="CpuProfileValidation"/> as every dump.</summary>
    public static string? Refusal(CpuProfile live)
    {
        ArgumentNullException.ThrowIfNull(live);
        return CpuProfileValidation.FirstProblem(live) is { } p
            ? $"CPUID(0x{p.Leaf:x},{p.Subleaf}) of the live CPU cannot be modelled: {p.Message}"
            : null;
    }

    private static List<CpuidLeaf> ReadLeaves()
    {
        var leaves = new List<CpuidLeaf>();
        var l0 = Read(0, 0);
        leaves.Add(l0);
        uint max = l0.Eax;
        if (max >= 1)
            leaves.Add(Read(1, 0));
        if (max >= 7)
        {
            var l7 = Read(7, 0);
            leaves.Add(l7);
            if (l7.Eax >= 1)
                leaves.Add(Read(7, 1));
        }
        if (max >= 0xD)
        {
            // Like the dump tools: sub-leaves 0 and 1 always, components only when enumerated (EAX != 0).
            for (uint i = 0; i < 64; i++)
            {
                var d = Read(0xD, i);
                if (i <= 1 || d.Eax != 0)
                    leaves.Add(d);
            }
        }
        if (max >= 0x1D)
        {
            var t0 = Read(0x1D, 0);
            leaves.Add(t0);
            for (uint p = 1; p <= t0.Eax && p < 16; p++)
                leaves.Add(Read(0x1D, p));
        }
        if (max >= 0x1E)
            leaves.Add(Read(0x1E, 0));

        var e0 = Read(0x80000000, 0);
        if (e0.Eax >= 0x80000000)
        {
            leaves.Add(e0);
            for (uint l = 0x80000001; l <= Math.Min(e0.Eax, 0x80000004u); l++)
                leaves.Add(Read(l, 0));
            if (e0.Eax >= 0x80000008)
                leaves.Add(Read(0x80000008, 0));
        }
        return leaves;
    }

    private static CpuidLeaf Read(uint leaf, uint subleaf)
    {
        var (a, b, c, d) = X86Base.CpuId(unchecked((int)leaf), unchecked((int)subleaf));
        return new CpuidLeaf(leaf, subleaf, (uint)a, (uint)b, (uint)c, (uint)d);
    }
}
