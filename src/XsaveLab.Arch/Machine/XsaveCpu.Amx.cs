namespace XsaveLab.Arch.Machine;

// The AMX instruction that writes both tile components at once (SDM Vol.2 LDTILECFG).
public sealed partial class XsaveCpu
{
    /// <summary>LDTILECFG of the 64-byte configuration <paramref name="cfg"/>. #UD without XCR0[18:17] = 11b or
    /// CR4.OSXSAVE; #NM (IA32_XFD_ERR updated) when XFD arms XTILEDATA (SDM exception class AMX-E1 "XFD[18] =
    /// 1"); #GP for a configuration <see cref="XsaveDataRules.TileConfigViolation"/> refuses. Palette 0 puts
    /// both tile components in their initial configuration (not in use); any other palette loads TILECFG and,
    /// as the SDM pseudo-code's <c>zero_all_tile_data()</c> and Bochs <c>LDTILECFG</c> do, zeroes every tile,
    /// so TILEDATA is back in its initial configuration.</summary>
    public XsaveFault Ldtilecfg(ReadOnlySpan<byte> cfg)
    {
        if (cfg.Length != 64)
            throw new ArgumentException($"a tile configuration has 64 bytes, got {cfg.Length}", nameof(cfg));
        if ((_layout.Enumerated & XFeatureMasks.Xtile) != XFeatureMasks.Xtile || !OsXsave
            || (_xcr0 & XFeatureMasks.Xtile) != XFeatureMasks.Xtile)
            return XsaveFault.UD(XsaveRules.ComponentDisabled);
        if ((_xfd & XFeatureMasks.XtileData) != 0)
        {
            _xfdErr |= XFeatureMasks.XtileData;
            return XsaveFault.NM(XsaveRules.XfdArmed);
        }
        if (XsaveDataRules.TileConfigViolation(cfg) is { } rule)
            return XsaveFault.GP(rule);
        Init((int)XFeature.XtileData);
        if (cfg[0] != 0)
            return Write((int)XFeature.XtileCfg, cfg);
        Init((int)XFeature.XtileCfg);
        return XsaveFault.None;
    }
}
