namespace XsaveLab.Kvm.Vm;

/// <summary>A VM file descriptor: vCPU creation and the per-VM capability query.</summary>
public sealed class KvmVm
{
    private Dictionary<int, KvmVcpu> _vcpus = [];

    internal KvmVm(KvmSystem sys, int id)
    {
        System = sys;
        Id = id;
    }

    public KvmSystem System { get; private set; }
    public int Id { get; }
    public IReadOnlyCollection<KvmVcpu> Vcpus => _vcpus.Values;

    /// <summary>Guest memory buffers (by name) the guest's XSAVE-family instructions use; part of a snapshot.</summary>
    public Dictionary<string, byte[]> GuestMemory { get; private set; } = new(StringComparer.OrdinalIgnoreCase);

    private Dictionary<string, ulong> _guestAddresses = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The copy of <paramref name="o"/> within the copy <paramref name="map"/> is building: its process,
    /// vCPUs and guest memory copied. Value fields are copied by <see cref="object.MemberwiseClone"/>.</summary>
    internal static KvmVm Clone(KvmVm o, CloneMap map)
    {
        var c = (KvmVm)o.MemberwiseClone();
        map.Add(o, c);
        c.System = map.Get(o.System, KvmSystem.Clone);
        c._vcpus = new Dictionary<int, KvmVcpu>(o._vcpus.Count);
        foreach (var (id, v) in o._vcpus)
            c._vcpus.Add(id, map.Get(v, KvmVcpu.Clone));
        c.GuestMemory = new Dictionary<string, byte[]>(o.GuestMemory.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, mem) in o.GuestMemory)
            c.GuestMemory.Add(name, (byte[])mem.Clone());
        c._guestAddresses = new Dictionary<string, ulong>(o._guestAddresses, StringComparer.OrdinalIgnoreCase);
        c.ShadowStacks = new HashSet<string>(o.ShadowStacks, StringComparer.OrdinalIgnoreCase);
        return c;
    }

    /// <summary>The guest linear address of buffer <paramref name="name"/>: each name gets its own
    /// <see cref="KvmVcpu.GuestBufferSize"/> slot from 0x200000 up, in order of first use, so that the modified
    /// optimization, which keys on the linear address of the last XRSTOR(S) (SDM Vol.1 §13.6, XRSTOR_INFO),
    /// tells two buffers apart.</summary>
    public ulong GuestAddress(string name)
    {
        if (!_guestAddresses.TryGetValue(name, out var a))
            _guestAddresses[name] = a = 0x200000UL + (ulong)_guestAddresses.Count * KvmVcpu.GuestBufferSize;
        return a;
    }

    /// <summary>The linear addresses given to buffers so far (a snapshot keeps them: guest memory does not move).</summary>
    public IReadOnlyDictionary<string, ulong> GuestAddresses => _guestAddresses;

    /// <summary>Buffers the guest kernel mapped as shadow-stack pages (<c>shstk_enable BUF</c>); a page attribute in
    /// the guest's page tables, so part of guest memory and of a snapshot.</summary>
    public HashSet<string> ShadowStacks { get; private set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The buffer holding linear address <paramref name="address"/> and the offset in it, or null.</summary>
    public string? BufferAt(ulong address, out int offset)
    {
        foreach (var (name, start) in _guestAddresses)
            if (address >= start && address - start < KvmVcpu.GuestBufferSize)
            {
                offset = (int)(address - start);
                return name;
            }
        offset = 0;
        return null;
    }

    /// <summary>Puts restored guest memory at the addresses it had (before any new buffer is named).</summary>
    internal void RestoreAddresses(IReadOnlyDictionary<string, ulong> addresses)
    {
        foreach (var (name, a) in addresses.OrderBy(kv => kv.Value))
            _guestAddresses[name] = a;
    }

    public SysResult CheckExtension(int cap) => System.CheckExtension(cap);

    /// <summary>KVM_CREATE_VCPU: allocates the guest fpstate (<c>fpu_alloc_guest_fpstate()</c>), which locks the
    /// process's guest permissions.</summary>
    public (SysResult Result, KvmVcpu? Vcpu) CreateVcpu(int id)
    {
        if (id < 0 || id >= 4096)
            return (SysResult.Fail(Errno.EINVAL, "vCPU id out of range"), null);
        if (_vcpus.ContainsKey(id))
            return (SysResult.Fail(Errno.EEXIST, $"vCPU {id} exists"), null);
        var v = new KvmVcpu(this, id);
        _vcpus[id] = v;
        return (SysResult.Success(id, $"guest fpstate {Numbers.Bytes(v.Fpu.FpState!.Size)}, xfeatures 0x{v.Fpu.FpState.Xfeatures:x}; guest permission locked"), v);
    }

    public KvmVcpu? Vcpu(int id) => _vcpus.GetValueOrDefault(id);

    internal void Remove(int id) => _vcpus.Remove(id);
}
