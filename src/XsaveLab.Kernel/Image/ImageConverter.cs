namespace XsaveLab.Kernel.Image;

/// <summary>What a conversion did with one component.</summary>
public enum ComponentFate
{
    /// <summary>In use: its bytes were copied to the target's offset.</summary>
    Moved,

    /// <summary>In its initial configuration in the source; it stays so in the target (XSTATE_BV bit clear).</summary>
    Initial,

    /// <summary>The target layout has no place for it (the target CPU does not enumerate it, or a supervisor
    /// component in the standard format); its registers are lost if it was in use.</summary>
    Dropped,

    /// <summary>The target has a place the source did not: the component is given its initial configuration.</summary>
    Initialised,
}

/// <summary>One component of a conversion: where it was, where it went (null: no place) and whether it was in use.</summary>
public sealed record ComponentConversion(int Number, ComponentFate Fate, int? From, int? To, bool InUse);

/// <summary>A converted image and what happened to each component.</summary>
public sealed record ImageConversion(XsaveImage Image, IReadOnlyList<ComponentConversion> Components)
{
    /// <summary>A component in use was dropped: some register values are not in the target.</summary>
    public bool LostState => Components.Any(c => c.Fate == ComponentFate.Dropped && c.InUse);
}

/// <summary>Rewrites an image between the standard and the compacted format and between CPU layouts (as Xen's
/// <c>expand_xsave_states()</c>/<c>compress_xsave_states()</c> do between formats): the legacy region is copied
/// whole, each component in use is copied from its offset in the source layout to its offset in the target layout,
/// XSTATE_BV keeps the bits of the components that have a place, XCOMP_BV is 0 (standard) or bit 63 with every
/// placed component (compacted, SDM Vol. 1 §13.4.3), the user features at byte 464 of a ptrace or KVM image are the
/// target's, the reserved header bytes are zero and everything else (gaps,
/// components in their initial configuration) is zero — so converting a standard image to compacted and back gives
/// the same bytes for every component in use.</summary>
public static class ImageConverter
{
    /// <summary>The smallest KVM_SET_XSAVE buffer (<c>struct kvm_xsave</c>, 4096 bytes): a KVM image is padded to it.</summary>
    public const int KvmXsaveSize = 4096;

    /// <summary>Converts <paramref name="source"/> to the <paramref name="compacted"/> or standard format of
    /// <paramref name="target"/>, for the components the source has a place for.</summary>
    public static ImageConversion Convert(XsaveImage source, CpuProfile target, bool compacted)
    {
        ulong features = source.Layout.Features;
        var layout = ImageLayout.ForCpu(target, features, compacted, LayoutOrigin.Cpu);
        ulong placed = layout.Features;
        var kind = compacted
            ? ((placed & XFeatureTable.MaskOf(f => f.IsSupervisor)) != 0 ? ImageKind.Xsaves : ImageKind.Xsavec)
            : source.Kind switch { ImageKind.Core or ImageKind.Ptrace => ImageKind.Ptrace, ImageKind.Kvm => ImageKind.Kvm, _ => ImageKind.Xsave };
        var bytes = new byte[kind == ImageKind.Kvm ? Math.Max(layout.Size, KvmXsaveSize) : layout.Size];
        source.Bytes.AsSpan(0, XsaveOffsets.LegacySize).CopyTo(bytes);
        // ptrace and KVM images record the user features at 464 (xstate_fx_sw_bytes[0]): those of the target layout.
        if (kind is ImageKind.Ptrace or ImageKind.Kvm && source.Kind is ImageKind.Core or ImageKind.Ptrace or ImageKind.Kvm)
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(XsaveOffsets.SwReserved), placed & XFeatureMasks.UserSupported);
        var image = new XsaveImage(bytes, layout, kind, source.Tid);
        ulong bv = source.XstateBv & placed;
        image.XstateBv = bv;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(XsaveOffsets.XcompBv),
            compacted ? XFeatureMasks.CompactedFormat | placed : 0);

        var fates = new List<ComponentConversion>();
        foreach (var c in source.Layout.Components)
        {
            bool inUse = source.IsInUse(c.Number);
            if (layout.Find(c.Number) is not { } to)
            {
                fates.Add(new(c.Number, ComponentFate.Dropped, c.Offset, null, inUse));
                continue;
            }
            if (inUse && c.Number >= 2)
                source.Locate(c.Number).CopyTo(image.Locate(c.Number));
            fates.Add(new(c.Number, inUse ? ComponentFate.Moved : ComponentFate.Initial, c.Offset, to.Offset, inUse));
        }
        foreach (var c in layout.Components.Where(c => source.Layout.Find(c.Number) is null))
            fates.Add(new(c.Number, ComponentFate.Initialised, null, c.Offset, false));
        return new ImageConversion(image, [.. fates.OrderBy(f => f.Number)]);
    }
}
