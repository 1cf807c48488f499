namespace XsaveLab.Host.Interop;

/// <summary>getauxval(3) and sysconf(3).</summary>
internal static partial class Libc
{
    [LibraryImport(Library, SetLastError = true)]
    public static partial ulong getauxval(ulong type);

    [LibraryImport(Library, SetLastError = true)]
    public static partial long sysconf(int name);
}
