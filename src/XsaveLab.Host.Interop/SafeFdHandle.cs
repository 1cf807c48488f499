namespace XsaveLab.Host.Interop;

/// <summary>A Linux file descriptor owned by this process (a KVM system, VM or vCPU fd, …): closed exactly
/// once, by <see cref="System.Runtime.InteropServices.SafeHandle.Dispose()"/> or the finalizer, and never
/// while a P/Invoke that was given it is still running.</summary>
public sealed class SafeFdHandle : SafeHandleMinusOneIsInvalid
{
    public SafeFdHandle() : base(ownsHandle: true)
    {
    }

    public SafeFdHandle(int fd, bool ownsHandle = true) : base(ownsHandle) => SetHandle(fd);

    /// <summary>The descriptor number (-1 once invalid).</summary>
    public int Fd => IsInvalid ? -1 : (int)handle;

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}
