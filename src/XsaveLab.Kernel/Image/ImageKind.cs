namespace XsaveLab.Kernel.Image;

/// <summary>What a file holding XSAVE state is: an ELF core, or one raw image of a known producer.</summary>
public enum ImageKind
{
    /// <summary>An ELF core file (the kernel's or gdb's gcore): one NT_X86_XSTATE note per thread, standard format,
    /// optionally with NT_X86_XSAVE_LAYOUT (Linux 6.12, ba386777a30b, <c>elf_coredump_extra_notes_write()</c>).</summary>
    Core,

    /// <summary>A PTRACE_GETREGSET NT_X86_XSTATE image: standard format, user XCR0 at byte 464
    /// (<c>xstate_fx_sw_bytes</c>, <c>copy_xstate_to_uabi_buf()</c>).</summary>
    Ptrace,

    /// <summary>The fpstate of a 64-bit signal frame: standard format, <c>struct _fpx_sw_bytes</c> at byte 464 and
    /// FP_XSTATE_MAGIC2 after the image (<c>copy_fpstate_to_sigframe()</c>).</summary>
    Sigframe,

    /// <summary>A <c>struct kvm_xsave</c> from KVM_GET_XSAVE (4096 bytes) or KVM_GET_XSAVE2 (KVM_CAP_XSAVE2 bytes):
    /// standard format (<c>fpu_copy_guest_fpstate_to_uabi()</c>), zero-padded.</summary>
    Kvm,

    /// <summary>A buffer XSAVE or XSAVEOPT wrote: standard format (SDM Vol. 1 §13.4.1).</summary>
    Xsave,

    /// <summary>A buffer XSAVEC wrote: compacted format of user components (SDM Vol. 1 §13.4.3).</summary>
    Xsavec,

    /// <summary>A buffer XSAVES wrote: compacted format, supervisor components included (SDM Vol. 1 §13.11).</summary>
    Xsaves,
}

/// <summary>The names of <see cref="ImageKind"/> on the command line and in JSON.</summary>
public static class ImageKinds
{
    /// <summary>Kinds a raw file can be declared as (<c>--kind</c>); a core file is recognised by its ELF magic.</summary>
    public static readonly IReadOnlyList<ImageKind> Raw =
        [ImageKind.Ptrace, ImageKind.Sigframe, ImageKind.Kvm, ImageKind.Xsave, ImageKind.Xsavec, ImageKind.Xsaves];

    public static string Name(ImageKind kind) => kind.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out ImageKind kind)
    {
        foreach (var k in Enum.GetValues<ImageKind>())
            if (string.Equals(Name(k), text, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        kind = default;
        return false;
    }

    /// <summary>The producer writes the compacted format (XCOMP_BV bit 63 set).</summary>
    public static bool IsCompacted(ImageKind kind) => kind is ImageKind.Xsavec or ImageKind.Xsaves;
}
