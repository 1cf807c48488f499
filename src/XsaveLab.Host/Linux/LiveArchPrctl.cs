namespace XsaveLab.Host.Linux;

/// <summary>Result of one <c>arch_prctl</c> call: the syscall's return, errno (0 on success) and, for the
/// GET options, the 64-bit value the kernel wrote (the pre-fill value when it wrote nothing).</summary>
public readonly record struct XcompResult(SysResult Result, ulong Value)
{
    public bool Ok => Result.Ok;

    /// <summary>What syscall(2) returned: 0, or -1.</summary>
    public long Ret => Ok ? Result.Value : -1;

    public Errno Errno => Result.Errno;

    /// <summary>A result from a raw return and errno (as the child process reports them).</summary>
    public static XcompResult From(long ret, int errno, ulong value) => new(SysResult.FromLibc(ret, errno, "arch_prctl"), value);

    public override string ToString() =>
        Ok ? $"0x{Value:x}" : $"ret={Ret} {Result.Errno.Name()}";
}

/// <summary>The XSTATE permission interface of <c>arch_prctl(2)</c> on this machine (arch/x86/include/uapi/asm/prctl.h),
/// reached through libc <c>syscall(SYS_arch_prctl = 158, …)</c>. The option numbers are the model's
/// (<see cref="ArchPrctl"/>), which answers the same calls on the kernel model.</summary>
/// <remarks>Kernel side: <c>fpu_xstate_prctl()</c> in arch/x86/kernel/fpu/xstate.c. The GET options are
/// pure reads. The REQ options are NOT: a successful ARCH_REQ_XCOMP_PERM / ARCH_REQ_XCOMP_GUEST_PERM
/// permanently widens the permissions of the whole calling process (the group leader's
/// <c>fpu->perm</c> / <c>guest_perm</c>); there is no way to give a permission back. Call them directly
/// only in a process you are willing to change; <see cref="XcompRequestProbe"/> runs them in a child
/// process instead.</remarks>
public static unsafe class LiveArchPrctl
{
    /// <summary>Value written into the out-parameter before a GET, so "kernel wrote nothing" is visible.</summary>
    public const ulong Unwritten = 0xDEADBEEFDEADBEEF;

    /// <summary>ARCH_GET_XCOMP_SUPP: <c>fpu_user_cfg.max_features | legacy_features</c>.</summary>
    public static XcompResult GetSupported() => Get(ArchPrctl.GetXcompSupp);

    /// <summary>ARCH_GET_XCOMP_PERM: the process's permitted features, masked with USER_SUPPORTED.</summary>
    public static XcompResult GetPermitted() => Get(ArchPrctl.GetXcompPerm);

    /// <summary>ARCH_GET_XCOMP_GUEST_PERM: the permitted guest features, masked with USER_SUPPORTED.</summary>
    public static XcompResult GetGuestPermitted() => Get(ArchPrctl.GetXcompGuestPerm);

    /// <summary>ARCH_REQ_XCOMP_PERM for feature number <paramref name="feature"/>. CHANGES THE CALLING
    /// PROCESS's permissions when it succeeds (see the type remarks).</summary>
    public static XcompResult RequestPermission(long feature) => Request(ArchPrctl.ReqXcompPerm, feature);

    /// <summary>ARCH_REQ_XCOMP_GUEST_PERM for feature number <paramref name="feature"/>. CHANGES THE
    /// CALLING PROCESS's guest permissions when it succeeds (see the type remarks).</summary>
    public static XcompResult RequestGuestPermission(long feature) => Request(ArchPrctl.ReqXcompGuestPerm, feature);

    /// <summary>A GET-style option: the kernel stores a u64 through the pointer argument.</summary>
    public static XcompResult Get(int option)
    {
        ulong v = Unwritten;
        long r = Libc.syscall(Libc.SysArchPrctl, option, (nint)(&v));
        int e = r < 0 ? Marshal.GetLastPInvokeError() : 0;
        return XcompResult.From(r, e, v);
    }

    /// <summary>A REQ-style option: the argument is passed by value. May change process state.</summary>
    public static XcompResult Request(int option, long argument)
    {
        long r = Libc.syscall(Libc.SysArchPrctl, option, (nint)argument);
        int e = r < 0 ? Marshal.GetLastPInvokeError() : 0;
        return XcompResult.From(r, e, 0);
    }
}
