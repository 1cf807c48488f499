namespace XsaveLab.Host.Interop;

/// <summary>An anonymous private mapping that machine-code stubs are written into and then executed from.</summary>
/// <remarks>
/// The region is mapped read/write (<c>mmap</c> PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS); each
/// <see cref="Emit"/> copies a stub to the next 16-byte boundary and returns its address. <see cref="Seal"/>
/// switches the whole region to PROT_READ|PROT_EXEC (W^X: it is never writable and executable at once);
/// after that nothing more can be emitted. <see cref="Dispose"/> unmaps it: every function pointer obtained
/// from it is dangling afterwards, so keep the owner alive for as long as the stubs are called.
/// Linux only (the mapping calls are libc's).
/// <example>
/// <code>
/// using var mem = new ExecutableMemory();
/// nint f = mem.Emit([0x89, 0xF8, 0xC3]);           // mov eax, edi ; ret
/// mem.Seal();
/// unsafe { int r = ((delegate* unmanaged&lt;int, int&gt;)f)(42); }  // r == 42
/// </code>
/// </example>
/// </remarks>
public sealed class ExecutableMemory : IDisposable
{
    /// <summary>Every stub starts at a multiple of this (the usual function alignment; keeps loop targets in one fetch block).</summary>
    public const int StubAlignment = 16;

    private nint _base;
    private int _used;

    /// <summary>Maps <paramref name="capacity"/> bytes (rounded up to whole 4 KiB pages) read/write.</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="InvalidOperationException"><c>mmap</c> failed (the message carries errno).</exception>
    public ExecutableMemory(int capacity = 65536)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("ExecutableMemory uses Linux mmap/mprotect.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = (capacity + 4095) & ~4095;
        nint p = Libc.mmap(0, (nuint)Capacity, Libc.ProtRead | Libc.ProtWrite, Libc.MapPrivate | Libc.MapAnonymous, -1, 0);
        if (p == Libc.MapFailed || p == 0)
            throw new InvalidOperationException($"mmap({Capacity}) failed: errno {Marshal.GetLastPInvokeError()}");
        _base = p;
    }

    /// <summary>Size of the mapping in bytes.</summary>
    public int Capacity { get; }

    /// <summary>Bytes used so far, including alignment padding.</summary>
    public int Used => _used;

    /// <summary>Start of the mapping (0 after <see cref="Dispose"/>).</summary>
    public nint BaseAddress => _base;

    /// <summary>True once <see cref="Seal"/> has made the region executable.</summary>
    public bool IsSealed { get; private set; }

    /// <summary>Copies <paramref name="code"/> to the next 16-byte boundary and returns its address.
    /// Padding between stubs is filled with <c>int3</c> (0xCC) so a stray jump traps.</summary>
    /// <exception cref="InvalidOperationException">Already sealed, or no room left.</exception>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    public unsafe nint Emit(ReadOnlySpan<byte> code)
    {
        ObjectDisposedException.ThrowIf(_base == 0, this);
        if (IsSealed)
            throw new InvalidOperationException("The region is sealed (executable); emit every stub before calling Seal().");
        if (code.IsEmpty)
            throw new ArgumentException("Empty stub.", nameof(code));
        int start = (_used + StubAlignment - 1) & ~(StubAlignment - 1);
        if (start + code.Length > Capacity)
            throw new InvalidOperationException($"No room for a {code.Length}-byte stub ({Capacity - start} bytes left).");
        var region = new Span<byte>((void*)_base, Capacity);
        region[_used..start].Fill(0xCC);
        code.CopyTo(region[start..]);
        _used = start + code.Length;
        return _base + start;
    }

    /// <summary>The bytes emitted so far at <paramref name="address"/> (for inspection/disassembly).</summary>
    public unsafe ReadOnlySpan<byte> Read(nint address, int length)
    {
        ObjectDisposedException.ThrowIf(_base == 0, this);
        long off = address - _base;
        if (off < 0 || length < 0 || off + length > _used)
            throw new ArgumentOutOfRangeException(nameof(address), "Range is outside the emitted code.");
        return new ReadOnlySpan<byte>((void*)address, length);
    }

    /// <summary>Makes the region read+execute (<c>mprotect</c> PROT_READ|PROT_EXEC). Idempotent.</summary>
    /// <exception cref="InvalidOperationException"><c>mprotect</c> failed.</exception>
    public void Seal()
    {
        ObjectDisposedException.ThrowIf(_base == 0, this);
        if (IsSealed)
            return;
        if (Libc.mprotect(_base, (nuint)Capacity, Libc.ProtRead | Libc.ProtExec) != 0)
            throw new InvalidOperationException($"mprotect(R|X) failed: errno {Marshal.GetLastPInvokeError()}");
        IsSealed = true;
    }

    /// <summary>Unmaps the region. Function pointers into it must not be called afterwards.</summary>
    public void Dispose()
    {
        nint p = _base;
        if (p == 0)
            return;
        _base = 0;
        Libc.munmap(p, (nuint)Capacity);
        GC.SuppressFinalize(this);
    }

    ~ExecutableMemory()
    {
        if (_base != 0)
            Libc.munmap(_base, (nuint)Capacity);
    }
}
