namespace XsaveLab.Host.Native;

/// <summary>The parameter block every probe stub receives in RDI: addresses, masks, counts in, XGETBV(1)
/// readings out. Native memory, so the stubs can read it with plain <c>[r11 + disp]</c> operands.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ProbeBlock
{
    public nint Scratch;
    public nint Image;
    public ulong RestoreMask;
    public nint Output;
    public ulong SaveMask;
    public nint Output2;
    public ulong RestoreMask2;
    public ulong SaveMask2;
    public nint Clobber;
    public ulong ClobberLength;
    public ulong CopyLength;
    public ulong Count;
    public nint ExitState;
    public ulong Xgetbv1AtEntry;
    public ulong Xgetbv1AfterRestore;
    public ulong Xgetbv1SecondStep;
    public ulong Xgetbv1AtExit;

    public static int Offset(string field) => (int)Marshal.OffsetOf<ProbeBlock>(field);
}
