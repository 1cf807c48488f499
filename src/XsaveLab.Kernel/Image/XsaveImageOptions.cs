namespace XsaveLab.Kernel.Image;

/// <summary>How to read an image file.</summary>
/// <param name="Kind">What a raw file is; null: an ELF core is recognised by its magic, a raw file is guessed from
/// its contents (with a warning).</param>
/// <param name="Cpu">The CPU whose layout to use when the file has no NT_X86_XSAVE_LAYOUT note.</param>
public sealed record XsaveImageOptions(ImageKind? Kind = null, CpuProfile? Cpu = null)
{
    public static readonly XsaveImageOptions Default = new();

    /// <summary>Largest raw image read: XSAVE areas are a few KiB (12 KiB with AMX); KVM_GET_XSAVE2 buffers are
    /// the guest's XSAVE size rounded up to a page.</summary>
    public const int MaxRawBytes = 1 << 20;
}
