namespace XsaveLab.Host.Interop;

/// <summary>NUL-terminated UTF-8 strings and NULL-terminated arrays of them (the argv and envp of
/// posix_spawn(3)) in native memory, all freed when this is disposed.</summary>
internal sealed unsafe class NativeStrings : IDisposable
{
    private readonly List<nint> _allocations = [];

    public byte* String(string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)b.Length + 1);
        _allocations.Add((nint)p);
        b.CopyTo(new Span<byte>(p, b.Length));
        p[b.Length] = 0;
        return p;
    }

    public byte** Array(IReadOnlyList<string> items)
    {
        byte** array = (byte**)NativeMemory.AllocZeroed((nuint)(items.Count + 1), (nuint)sizeof(nint));
        _allocations.Add((nint)array);
        for (int i = 0; i < items.Count; i++)
            array[i] = String(items[i]);
        return array;
    }

    public void Dispose()
    {
        foreach (var p in _allocations)
            NativeMemory.Free((void*)p);
        _allocations.Clear();
    }
}
