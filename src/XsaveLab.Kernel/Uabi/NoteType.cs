namespace XsaveLab.Kernel.Uabi;

/// <summary>ELF note and ptrace regset types (include/uapi/linux/elf.h): the one definition the model, the
/// core-file reader and the live ptrace calls use.</summary>
public static class NoteType
{
    public const int NtPrstatus = 1;
    public const int NtPrfpreg = 2;
    public const int NtPrpsinfo = 3;
    public const int NtAuxv = 6;
    public const int NtX86Xstate = 0x202;
    public const int NtX86Shstk = 0x204;
    public const int NtX86XsaveLayout = 0x205;
}
