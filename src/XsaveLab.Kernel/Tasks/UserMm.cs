namespace XsaveLab.Kernel.Tasks;

/// <summary>The part of a process address space (<c>struct mm_struct</c>) the shadow stack paths touch: the
/// VM_SHADOW_STACK mappings and the 8-byte entries written to them. Threads and a CLONE_VFORK child share it,
/// fork copies it, exec replaces it.</summary>
/// <remarks>Addresses are model addresses: <c>alloc_shstk()</c> maps with MAP_ABOVE4G, below the model's mmap
/// base, each mapping followed by a guard page (the gap INCSSP cannot cross, shstk.c).</remarks>
public sealed class UserMm
{
    /// <summary>Where the model's mmap() places the first shadow stack's top (grows down from here).</summary>
    public const ulong MmapBase = 0x7fff_f000_0000;

    // Not readonly: Clone() replaces them in its copy.
    private List<ThreadShstk> _shadowStacks = [];
    private Dictionary<ulong, ulong> _entries = [];
    private ulong _next = MmapBase;

    /// <summary>The live VM_SHADOW_STACK mappings.</summary>
    public IReadOnlyList<ThreadShstk> ShadowStacks => _shadowStacks;

    /// <summary>A value copy (fork duplicates the address space).</summary>
    public UserMm Copy()
    {
        var c = new UserMm { _next = _next };
        c._shadowStacks.AddRange(_shadowStacks);
        foreach (var (a, v) in _entries)
            c._entries[a] = v;
        return c;
    }

    /// <summary>The copy of <paramref name="o"/> within the kernel copy <paramref name="map"/> is building (once for
    /// all the threads sharing it). Value fields are copied by <see cref="object.MemberwiseClone"/>.</summary>
    internal static UserMm Clone(UserMm o, CloneMap map)
    {
        var c = (UserMm)o.MemberwiseClone();
        map.Add(o, c);
        c._shadowStacks = [.. o._shadowStacks];
        c._entries = new Dictionary<ulong, ulong>(o._entries);
        return c;
    }

    /// <summary><c>alloc_shstk()</c>: a new zero-filled shadow stack mapping of <paramref name="size"/> bytes
    /// (page aligned), below the previous one with a guard page between.</summary>
    internal ThreadShstk Map(ulong size)
    {
        ulong top = _next;
        ulong b = top - size;
        _next = b - (ulong)Memory.SlubRules.PageSize;
        var s = new ThreadShstk(b, size);
        _shadowStacks.Add(s);
        return s;
    }

    /// <summary><c>unmap_shadow_stack()</c>: vm_munmap() of a mapping and its contents.</summary>
    internal void Unmap(ThreadShstk s)
    {
        _shadowStacks.Remove(s);
        foreach (var a in _entries.Keys.Where(a => a >= s.Base && a < s.Top).ToArray())
            _entries.Remove(a);
    }

    /// <summary>Whether the 8 bytes at <paramref name="address"/> lie in a shadow stack mapping.</summary>
    public bool IsShadowStack(ulong address) =>
        _shadowStacks.Any(s => address >= s.Base && address <= s.Top - 8);

    /// <summary>get_user() of 8 bytes of shadow stack memory: null when unmapped (-EFAULT).</summary>
    public ulong? Read(ulong address) => IsShadowStack(address) ? _entries.GetValueOrDefault(address) : null;

    /// <summary><c>write_user_shstk_64()</c> (WRUSS) and user WRSS: false when the target is not shadow stack
    /// memory (the write faults).</summary>
    internal bool Write(ulong address, ulong value)
    {
        if (!IsShadowStack(address))
            return false;
        _entries[address] = value;
        return true;
    }
}
