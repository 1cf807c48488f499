namespace XsaveLab.Arch.Machine;

/// <summary>MSR numbers of the XSAVE-related and CET registers (SDM Vol.4).</summary>
public static class Msr
{
    public const uint IA32_XFD = 0x1C4;
    public const uint IA32_XFD_ERR = 0x1C5;
    public const uint IA32_XSS = 0xDA0;
    public const uint IA32_U_CET = 0x6A0;
    public const uint IA32_S_CET = 0x6A2;
    public const uint IA32_PL0_SSP = 0x6A4;
    public const uint IA32_PL1_SSP = 0x6A5;
    public const uint IA32_PL2_SSP = 0x6A6;
    public const uint IA32_PL3_SSP = 0x6A7;
    public const uint IA32_INT_SSP_TAB = 0x6A8;
}
