namespace XsaveLab.Host.Check;

/// <summary>The model of the probe child at its stop: a fresh task (init registers, PKRU init_pkru_value when
/// OSPKE) that executed XRSTOR of a <see cref="SeededXstateImage"/> with the image's restore mask.</summary>
internal static class ChildModel
{
    public static UabiTask AfterLoad(UabiConfig cfg, SeededXstateImage seeded)
    {
        var task = new UabiTask(cfg.NewDefaultFpstate(), 0);
        if (cfg.OsPke)
        {
            task.Pkru = UabiTask.InitPkruValue;
            task.Fpstate.XstateBv |= XFeatureMasks.Pkru;
        }
        if (Sigframes.Xrstor(cfg, task, seeded.Image, seeded.RestoreMask) is { IsFault: true } fault)
            throw new InvalidOperationException($"seed {seeded.Seed}: the model's XRSTOR faults ({fault})");
        return task;
    }

    /// <summary>FXSAVE's MXCSR_MASK as the kernel reports it in an FXSAVE/XSAVE image (bytes 28..31).</summary>
    public static uint HardwareMxcsrMask(ReadOnlySpan<byte> image) => BinaryPrimitives.ReadUInt32LittleEndian(image[XsaveOffsets.MxcsrMask..]);

    /// <summary>Compares two standard-format images region by region: legacy area, sw_reserved, header, each
    /// extended component of <paramref name="cfg"/>. Yields (region, model hex, actual hex) for differences.</summary>
    public static IEnumerable<(string Region, int Offset, int Length)> Regions(UabiConfig cfg)
    {
        yield return ("x87 environment", 0, XsaveOffsets.FpEnvSize);
        yield return ("MXCSR, MXCSR_MASK", XsaveOffsets.Mxcsr, XsaveOffsets.MxcsrAndFlagsSize);
        yield return ("ST0-7", XsaveOffsets.StSpace, XsaveOffsets.StSpaceSize);
        yield return ("XMM0-15", XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize);
        yield return ("padding 416..463", XsaveOffsets.Padding, XsaveOffsets.PaddingSize);
        yield return ($"sw_reserved (XCR0 at {XsaveOffsets.SwReserved})", XsaveOffsets.SwReserved, XsaveOffsets.SwReservedSize);
        yield return ("XSTATE_BV", XsaveOffsets.XstateBv, 8);
        yield return ("XCOMP_BV + reserved header", XsaveOffsets.XcompBv, 56);
        foreach (int i in cfg.ExtendedInOrder(cfg.UserMaxFeatures))
            yield return ($"component {i} {XFeatureTable.Get(i).ShortName}", cfg.StandardOffset(i), cfg.Size(i));
    }

    public static string Hex(ReadOnlySpan<byte> b) => b.Length <= 16 ? Convert.ToHexStringLower(b) : $"{Convert.ToHexStringLower(b[..8])}…({Numbers.Bytes(b.Length)}, sha {Digest(b)})";

    private static string Digest(ReadOnlySpan<byte> b) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(b))[..12];

    public static IEnumerable<Observable> CompareImages(string prefix, UabiConfig cfg, ReadOnlySpan<byte> model, ReadOnlySpan<byte> actual, string reason)
    {
        var list = new List<Observable>();
        int bvIndex = -1;
        foreach (var (region, off, len) in Regions(cfg))
        {
            string m = off + len <= model.Length ? Hex(model.Slice(off, len)) : "(absent)";
            string a = off + len <= actual.Length ? Hex(actual.Slice(off, len)) : "(absent)";
            if (off == XsaveOffsets.XstateBv)
                bvIndex = list.Count;
            list.Add(Observable.Compare($"{prefix} {region}", m, a, reason));
        }
        // XSTATE_BV records XINUSE: 0 guarantees the initial configuration, 1 does not exclude it (SDM Vol.1 §13.6).
        // When every register byte agrees, extra in-use bits are that, not a different state.
        if (bvIndex >= 0 && list[bvIndex].Status == ObservableStatus.Mismatch
            && list.Where((o, i) => i != bvIndex).All(o => o.Status == ObservableStatus.Match)
            && actual.Length >= XsaveOffsets.ExtendedStart && model.Length >= XsaveOffsets.ExtendedStart)
        {
            ulong mb = BinaryPrimitives.ReadUInt64LittleEndian(model[XsaveOffsets.XstateBv..]);
            ulong ab = BinaryPrimitives.ReadUInt64LittleEndian(actual[XsaveOffsets.XstateBv..]);
            if ((mb & ~ab) == 0)
                list[bvIndex] = list[bvIndex] with
                {
                    Status = ObservableStatus.Explained,
                    Reason = $"extra in-use bits {XFeatureTable.Describe(ab & ~mb)} for components whose bytes equal their init values: " +
                             "SDM Vol.1 §13.6: XINUSE[i] = 0 means component i is in its initial configuration, XINUSE[i] = 1 does not mean it is not; every register byte matches",
                };
        }
        return list;
    }
}
