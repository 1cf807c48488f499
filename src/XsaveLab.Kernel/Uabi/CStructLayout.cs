namespace XsaveLab.Kernel.Uabi;

/// <summary>A C struct laid out with the x86 System V rules (each member at the next multiple of its alignment;
/// the struct aligned to its largest member and padded to a multiple of it). Used to derive the signal-frame
/// sizes from the uapi declarations instead of quoting numbers.</summary>
public sealed class CStructLayout
{
    private readonly List<(string Name, int Offset, int Size)> _members = [];

    public CStructLayout(string name) => Name = name;

    public string Name { get; }
    public int Alignment { get; private set; } = 1;
    private int _end;

    public CStructLayout Add(string member, int size, int align, int count = 1)
    {
        int off = (_end + align - 1) / align * align;
        _members.Add((member, off, size * count));
        _end = off + size * count;
        Alignment = Math.Max(Alignment, align);
        return this;
    }

    public CStructLayout Add(string member, CStructLayout type, int count = 1) => Add(member, type.Sizeof, type.Alignment, count);

    public int Sizeof => (_end + Alignment - 1) / Alignment * Alignment;

    public int OffsetOf(string member) => _members.First(m => m.Name == member).Offset;
}

/// <summary>The uapi/asm structs that make up x86 signal frames (arch/x86/include/uapi/asm/sigcontext.h,
/// arch/x86/include/asm/sigframe.h, ucontext.h, siginfo).</summary>
public static class SigframeStructs
{
    /// <summary><c>struct _fpx_sw_bytes</c>: magic1, extended_size, xfeatures (u64 ⇒ 8-byte alignment), xstate_size, padding[7].</summary>
    public static readonly CStructLayout FpxSwBytes = new CStructLayout("_fpx_sw_bytes")
        .Add("magic1", 4, 4).Add("extended_size", 4, 4).Add("xfeatures", 8, 8).Add("xstate_size", 4, 4).Add("padding", 4, 4, 7);

    private static readonly CStructLayout Fpreg = new CStructLayout("_fpreg").Add("significand", 2, 2, 4).Add("exponent", 2, 2);
    private static readonly CStructLayout Fpxreg = new CStructLayout("_fpxreg").Add("significand", 2, 2, 4).Add("exponent", 2, 2).Add("padding", 2, 2, 3);
    private static readonly CStructLayout Xmmreg = new CStructLayout("_xmmreg").Add("element", 4, 4, 4);

    /// <summary><c>struct _fpstate_32</c>: legacy FSAVE environment + FXSR area whose sw_reserved union holds
    /// _fpx_sw_bytes — that u64 makes the whole struct 8-byte aligned.</summary>
    public static readonly CStructLayout Fpstate32 = new CStructLayout("_fpstate_32")
        .Add("cw", 4, 4).Add("sw", 4, 4).Add("tag", 4, 4).Add("ipoff", 4, 4).Add("cssel", 4, 4).Add("dataoff", 4, 4).Add("datasel", 4, 4)
        .Add("_st", Fpreg, 8).Add("status", 2, 2).Add("magic", 2, 2)
        .Add("_fxsr_env", 4, 4, 6).Add("mxcsr", 4, 4).Add("reserved", 4, 4).Add("_fxsr_st", Fpxreg, 8).Add("_xmm", Xmmreg, 8)
        .Add("padding1", 4, 4, 44).Add("sw_reserved", FpxSwBytes);

    /// <summary><c>struct sigcontext_32</c>.</summary>
    public static readonly CStructLayout Sigcontext32 = new CStructLayout("sigcontext_32")
        .Add("gs_fs_es_ds", 2, 2, 8).Add("di_si_bp_sp_bx_dx_cx_ax_trapno_err_ip", 4, 4, 11).Add("cs", 2, 2, 2).Add("flags", 4, 4)
        .Add("sp_at_signal", 4, 4).Add("ss", 2, 2, 2).Add("fpstate", 4, 4).Add("oldmask", 4, 4).Add("cr2", 4, 4);

    /// <summary><c>struct sigframe_ia32</c> (asm/sigframe.h): pretcode, sig, sc, fpstate_unused, extramask[1], retcode[8].</summary>
    public static readonly CStructLayout SigframeIa32 = new CStructLayout("sigframe_ia32")
        .Add("pretcode", 4, 4).Add("sig", 4, 4).Add("sc", Sigcontext32).Add("fpstate_unused", Fpstate32)
        .Add("extramask", 4, 4).Add("retcode", 1, 1, 8);

    /// <summary><c>struct sigcontext</c> (64-bit): r8..r15, di..ip, flags, cs/gs/fs/ss, err, trapno, oldmask, cr2, fpstate, reserved1[8].</summary>
    public static readonly CStructLayout Sigcontext64 = new CStructLayout("sigcontext_64")
        .Add("r8_r15", 8, 8, 8).Add("di_si_bp_bx_dx_ax_cx_sp_ip_flags", 8, 8, 10).Add("cs_gs_fs_ss", 2, 2, 4)
        .Add("err_trapno_oldmask_cr2", 8, 8, 4).Add("fpstate", 8, 8).Add("reserved1", 8, 8, 8);

    private static readonly CStructLayout StackT = new CStructLayout("stack_t").Add("ss_sp", 8, 8).Add("ss_flags", 4, 4).Add("ss_size", 8, 8);

    /// <summary><c>struct ucontext</c> (x86-64): uc_flags, uc_link, uc_stack, uc_mcontext, uc_sigmask (sigset_t, 8 bytes in the kernel).</summary>
    public static readonly CStructLayout Ucontext64 = new CStructLayout("ucontext")
        .Add("uc_flags", 8, 8).Add("uc_link", 8, 8).Add("uc_stack", StackT).Add("uc_mcontext", Sigcontext64).Add("uc_sigmask", 8, 8);

    /// <summary><c>struct rt_sigframe</c> (x86-64): pretcode, uc, info (siginfo_t, 128 bytes, 8-aligned).</summary>
    public static readonly CStructLayout RtSigframe = new CStructLayout("rt_sigframe")
        .Add("pretcode", 8, 8).Add("uc", Ucontext64).Add("info", 128, 8);
}
