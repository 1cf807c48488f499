namespace XsaveLab.Host.Interop;

/// <summary>The one class that declares libc entry points. Each syscall family has its own file
/// (<c>Interop.Ptrace.cs</c>, <c>Interop.Kvm.cs</c>, <c>Interop.Mman.cs</c>, …), as in dotnet/runtime's
/// <c>Interop.*</c> files. Every call that can fail sets errno, read with
/// <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/> right after the call.</summary>
/// <remarks>Signatures follow glibc x86-64. C functions returning <c>int</c> are declared <c>int</c>:
/// declaring <c>ioctl</c> or <c>waitpid</c> <c>long</c> turns -1 into 4294967295.</remarks>
internal static unsafe partial class Libc
{
    private const string Library = "libc";
}
