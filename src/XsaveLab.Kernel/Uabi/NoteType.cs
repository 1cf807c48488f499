namespace XsaveLab.Kernel.Uabi;

/// <summary>ELF note / regset types (include/uapi/linux/elf.h).</summary>
public static class NoteType
{
    public const int NtPrstatus = 1;
    public const int NtPrfpreg = 2;
    public const int NtX86Xstate = 0x202;
    public const int NtX86Shstk = 0x204;
    public const int NtX86XsaveLayout = 0x205;
}
