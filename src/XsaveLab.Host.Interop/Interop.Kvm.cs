namespace XsaveLab.Host.Interop;

/// <summary>ioctl(2), the only entry point of the KVM API (Documentation/virt/kvm/api.rst). The request
/// numbers and capability numbers are the model's too and live in XsaveLab.Kvm.Abi.KvmAbi.</summary>
internal static partial class Libc
{
    [LibraryImport(Library, SetLastError = true)]
    public static partial int ioctl(SafeFdHandle fd, ulong request, nint arg);
}
