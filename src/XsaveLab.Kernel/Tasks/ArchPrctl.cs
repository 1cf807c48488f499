namespace XsaveLab.Kernel.Tasks;

/// <summary>arch_prctl() codes of the XSTATE permission and user shadow stack interfaces
/// (arch/x86/include/uapi/asm/prctl.h).</summary>
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

    /// <summary>ARCH_SHSTK_ENABLE … ARCH_SHSTK_STATUS: the user shadow stack interface (6.6,
    /// arch/x86/kernel/shstk.c <c>shstk_prctl()</c>); arg2 is one feature bit, or for STATUS a pointer.</summary>
    public const int ShstkEnable = 0x5001;
    public const int ShstkDisable = 0x5002;
    public const int ShstkLock = 0x5003;
    public const int ShstkUnlock = 0x5004;
    public const int ShstkStatus = 0x5005;

    /// <summary>ARCH_SHSTK_SHSTK / ARCH_SHSTK_WRSS: the feature bits of <c>thread.features</c>.</summary>
    public const ulong ShstkShstk = 1UL << 0;
    public const ulong ShstkWrss = 1UL << 1;

    /// <summary>The ARCH_SHSTK_* feature bits by their lower-case names (<c>shstk</c>, <c>wrss</c>).</summary>
    public static readonly IReadOnlyList<(string Name, ulong Bit)> ShstkFeatureNames = [("shstk", ShstkShstk), ("wrss", ShstkWrss)];

    /// <summary>A thread.features value as names joined by '|' (<c>none</c> for 0; unknown bits in hex).</summary>
    public static string DescribeShstkFeatures(ulong features)
    {
        var parts = ShstkFeatureNames.Where(f => (features & f.Bit) != 0).Select(f => f.Name).ToList();
        ulong known = ShstkShstk | ShstkWrss;
        if ((features & ~known) != 0)
            parts.Add($"0x{features & ~known:x}");
        return parts.Count == 0 ? "none" : string.Join('|', parts);
    }

    /// <summary>MINSIGSTKSZ (include/uapi/asm-generic/signal.h on x86: 2048).</summary>
    public const ulong MinSigStkSz = 2048;
}
