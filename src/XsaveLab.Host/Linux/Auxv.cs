namespace XsaveLab.Host.Linux;

/// <summary>One auxiliary-vector entry (Elf64_auxv_t).</summary>
public readonly record struct AuxvEntry(ulong Type, ulong Value);

/// <summary>The ELF auxiliary vector the kernel passed to this process, and the libc views of it.</summary>
/// <remarks>AT_MINSIGSTKSZ is <c>get_sigframe_size()</c> (arch/x86/kernel/signal.c, exported through
/// ARCH_DLINFO): the largest signal frame for the user xstate max size (<c>init_sigframe_size()</c>). Read the
/// raw vector from /proc/self/auxv: glibc's getauxval(AT_HWCAP) returns its own HWCAP_X86_64 value,
/// not the kernel's (docs/host-interfaces.md item 7).</remarks>
public static class Auxv
{
    public const ulong AtNull = 0;
    public const ulong AtPageSz = 6;
    public const ulong AtHwcap = 16;
    public const ulong AtClkTck = 17;
    public const ulong AtHwcap2 = 26;
    public const ulong AtMinSigStkSz = 51;

    /// <summary>sysconf name _SC_MINSIGSTKSZ (glibc 2.34+).</summary>
    public const int ScMinSigStkSz = 249;

    /// <summary>sysconf name _SC_SIGSTKSZ (glibc 2.34+).</summary>
    public const int ScSigStkSz = 250;

    /// <summary>All entries of /proc/self/auxv up to AT_NULL.</summary>
    public static IReadOnlyList<AuxvEntry> ReadSelf() => Read("/proc/self/auxv");

    /// <summary>All entries of an auxv file (e.g. /proc/PID/auxv) up to AT_NULL.</summary>
    public static IReadOnlyList<AuxvEntry> Read(string path) => Parse(File.ReadAllBytes(path));

    public static IReadOnlyList<AuxvEntry> Parse(ReadOnlySpan<byte> bytes)
    {
        var list = new List<AuxvEntry>();
        for (int i = 0; i + 16 <= bytes.Length; i += 16)
        {
            ulong type = BitConverter.ToUInt64(bytes[i..]);
            if (type == AtNull)
                break;
            list.Add(new AuxvEntry(type, BitConverter.ToUInt64(bytes[(i + 8)..])));
        }
        return list;
    }

    /// <summary>The value of <paramref name="type"/> in /proc/self/auxv, or null when absent.</summary>
    public static ulong? SelfValue(ulong type)
    {
        foreach (var e in ReadSelf())
            if (e.Type == type)
                return e.Value;
        return null;
    }

    /// <summary>glibc <c>getauxval(type)</c> with its errno (ENOENT = 2 when the type is absent).</summary>
    public static (ulong Value, int Errno) GetAuxval(ulong type)
    {
        Marshal.SetLastPInvokeError(0);
        ulong v = Libc.getauxval(type);
        return (v, v == 0 ? Marshal.GetLastPInvokeError() : 0);
    }

    /// <summary>glibc <c>sysconf(name)</c>; -1 with errno for unknown names.</summary>
    public static (long Value, int Errno) Sysconf(int name)
    {
        Marshal.SetLastPInvokeError(0);
        long v = Libc.sysconf(name);
        return (v, v < 0 ? Marshal.GetLastPInvokeError() : 0);
    }
}
