namespace XsaveLab.Kernel.Tasks;

/// <summary>arch_prctl() codes of the XSTATE permission interface (arch/x86/include/uapi/asm/prctl.h).</summary>
public static class ArchPrctl
{
    public const int GetXcompSupp = 0x1021;
    public const int GetXcompPerm = 0x1022;
    public const int ReqXcompPerm = 0x1023;
    public const int GetXcompGuestPerm = 0x1024;
    public const int ReqXcompGuestPerm = 0x1025;

    /// <summary>ARCH_XCOMP_TILECFG / ARCH_XCOMP_TILEDATA: feature numbers for requests.</summary>
    public const int XcompTileCfg = 17;
    public const int XcompTileData = 18;

    /// <summary>MINSIGSTKSZ (include/uapi/asm-generic/signal.h on x86: 2048).</summary>
    public const ulong MinSigStkSz = 2048;
}
