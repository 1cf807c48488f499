namespace XsaveLab.Kvm.Vm;

/// <summary>What a VMM saves of a vCPU for migration or a snapshot (selftests' <c>vcpu_save_state()</c>): guest
/// CPUID, CR4.OSXSAVE (from the special registers), the KVM_GET_XSAVE2 image, XCRs, the to-be-saved MSRs it chose,
/// the KVM_GET_REG_LIST registers read with KVM_GET_ONE_REG (<see cref="Regs"/>: the guest's SSP on 6.18), and the
/// guest memory the XSAVE-family instructions used.</summary>
public sealed record VcpuSnapshot(
    IReadOnlyList<CpuidEntry> Cpuid,
    bool Cr4OsXsave,
    byte[] Xsave,
    IReadOnlyList<(uint Xcr, ulong Value)> Xcrs,
    IReadOnlyList<(uint Index, ulong Value)> Msrs,
    IReadOnlyDictionary<string, byte[]> Memory,
    string SourceCpu)
{
    /// <summary>The ONE_REG registers saved: (id, value) for each KVM_GET_REG_LIST entry; empty before 6.18, for a
    /// guest without SHSTK, or from a VMM that does not save them.</summary>
    public IReadOnlyList<(ulong Id, ulong Value)> Regs { get; init; } = [];

    /// <summary>The guest's CPL (CS.DPL from KVM_GET_SREGS).</summary>
    public int Cpl { get; init; }

    /// <summary>Where each guest buffer is (guest memory does not move) and which are shadow-stack pages.</summary>
    public IReadOnlyDictionary<string, ulong> Addresses { get; init; } = new Dictionary<string, ulong>();
    public IReadOnlyList<string> ShadowStacks { get; init; } = [];

    /// <summary>Features present in the saved image (XSTATE_BV); 0 for an image too short to hold the header.</summary>
    public ulong XstateBv => Xsave.Length >= XsaveLab.Arch.Machine.XsaveOffsets.XcompBv ? System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(Xsave.AsSpan(XsaveLab.Arch.Machine.XsaveOffsets.XstateBv)) : 0;
}

public sealed partial class KvmVcpu
{
    /// <summary>Saves the state a VMM saves; <paramref name="omitMsrs"/> leaves MSRs out (a VMM that does not know them),
    /// <paramref name="omitRegs"/> the ONE_REG registers (a VMM that predates KVM_GET_REG_LIST on x86). A VMM asks
    /// KVM_GET_REG_LIST (where it fails, as before 6.18, there is nothing to save) and reads each entry with
    /// KVM_GET_ONE_REG. A destroyed vCPU has no fd to save from: its first ioctl fails with -EBADF and there is no
    /// snapshot.</summary>
    public (SysResult Result, VcpuSnapshot? Snapshot) Save(IEnumerable<uint>? omitMsrs = null, bool omitRegs = false)
    {
        var omit = new HashSet<uint>(omitMsrs ?? []);
        var r = GetXsave2(out var img);
        if (!r.Ok)
            return (r, null);
        GetXcrs(out var xcrs);
        var list = Sys.GetMsrIndexList().Where(m => !omit.Contains(m)).ToArray();
        GetMsrs(list, out var vals);
        var regs = new List<(ulong, ulong)>();
        if (!omitRegs && GetRegList(ulong.MaxValue, out _, out var ids).Ok)
            foreach (var id in ids)
                if (GetOneReg(id, out var value).Ok)
                    regs.Add((id, value));
        var mem = Vm.GuestMemory.ToDictionary(kv => kv.Key, kv => (byte[])kv.Value.Clone(), StringComparer.OrdinalIgnoreCase);
        return (SysResult.Success(img.Length), new VcpuSnapshot(Cpuid, Cr4OsXsave, img, xcrs, list.Zip(vals).Select(p => (p.First, p.Second)).ToArray(), mem, Sys.Settings.Cpu.Name)
        {
            Regs = regs,
            Cpl = _guestCpl,
            Addresses = new Dictionary<string, ulong>(Vm.GuestAddresses, StringComparer.OrdinalIgnoreCase),
            ShadowStacks = Vm.ShadowStacks.ToArray(),
        });
    }

    /// <summary>KVM_SET_SREGS for the one bit the model keeps: CR4.OSXSAVE (needs XSAVE in guest CPUID).</summary>
    public SysResult SetCr4OsXsave(bool on)
    {
        if (Dead() is { } d) return d;
        if (on && !GuestXsave)
            return SysResult.Fail(Errno.EINVAL, "CR4.OSXSAVE without XSAVE in guest CPUID (kvm_is_valid_cr4)");
        Cr4OsXsave = on;
        return SysResult.Success();
    }
}
