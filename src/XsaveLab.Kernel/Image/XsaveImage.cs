namespace XsaveLab.Kernel.Image;

/// <summary>One XSAVE image (one thread of a core, or a raw image) read with a layout: locate a component, read and
/// write registers by name. The bytes are the image's own; writes change them in place.</summary>
/// <remarks>
/// A component whose XSTATE_BV bit is clear is in its initial configuration whatever its bytes hold (XSAVEOPT and
/// XSAVEC skip such components, SDM Vol. 1 §13.6 and §13.10), so its registers read as their initial values: zero,
/// except FCW 0x037F (SDM Vol. 1 §13.6, table 13-1). MXCSR and MXCSR_MASK are read from the image whatever
/// XSTATE_BV says: XRSTOR loads MXCSR when RFBM[1] or RFBM[2] is set, not by XSTATE_BV (SDM Vol. 1 §13.8.1).
/// </remarks>
public sealed class XsaveImage
{
    private readonly byte[] _bytes;

    /// <summary>An image over <paramref name="bytes"/> (not copied) laid out by <paramref name="layout"/>. Throws
    /// <see cref="ArgumentException"/> when a component of the layout lies outside the bytes.</summary>
    public XsaveImage(byte[] bytes, ImageLayout layout, ImageKind kind, int? tid = null)
    {
        if (bytes.Length < XsaveOffsets.ExtendedStart)
            throw new ArgumentException($"an XSAVE image has at least {XsaveOffsets.ExtendedStart} bytes, got {bytes.Length}", nameof(bytes));
        if (layout.Components.FirstOrDefault(c => c.End > bytes.Length) is { Size: > 0 } beyond)
            throw new ArgumentException($"component {beyond.Number} ends at {beyond.End}, beyond the {bytes.Length}-byte image", nameof(layout));
        _bytes = bytes;
        Layout = layout;
        Kind = kind;
        Tid = tid;
    }

    public ImageLayout Layout { get; }
    public ImageKind Kind { get; }

    /// <summary>The thread of a core file (<c>elf_prstatus.pr_pid</c>); null for a raw image.</summary>
    public int? Tid { get; }

    /// <summary>The image's bytes (the file's bytes for a raw image, the NT_X86_XSTATE descriptor for a core).</summary>
    public byte[] Bytes => _bytes;

    /// <summary>Header XSTATE_BV (bytes 512..519): components not in their initial configuration.</summary>
    public ulong XstateBv
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(XsaveOffsets.XstateBv));
        set => BinaryPrimitives.WriteUInt64LittleEndian(_bytes.AsSpan(XsaveOffsets.XstateBv), value);
    }

    /// <summary>Header XCOMP_BV (bytes 520..527): bit 63 and the components of a compacted image.</summary>
    public ulong XcompBv => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(XsaveOffsets.XcompBv));

    /// <summary>The <c>struct _fpx_sw_bytes</c> at byte 464 of a signal frame (null for other kinds).</summary>
    public FpxSwBytes? SwBytes => Kind == ImageKind.Sigframe ? FpxSwBytes.Read(_bytes) : null;

    /// <summary>The bytes of component <paramref name="component"/>, as Windows' <c>LocateXStateFeature</c> gives
    /// them: empty when the layout has no place for it. For x87 that is bytes 0..159, for SSE the XMM registers at
    /// 160..415 (MXCSR sits inside the x87 range at 24).</summary>
    public Span<byte> Locate(int component) =>
        Layout.Find(component) is { } c ? _bytes.AsSpan(c.Offset, c.Size) : [];

    /// <summary>The component's XSTATE_BV bit is set: it is not in its initial configuration.</summary>
    public bool IsInUse(int component) => (uint)component < 63 && (XstateBv >> component & 1) != 0;

    /// <summary>The registers this image has a place for, in <see cref="ImageRegisters.All"/> order.</summary>
    public IEnumerable<ImageRegister> Registers =>
        ImageRegisters.All.Where(r => r.Parts.All(p => Layout.Find(p.Component) is not null));

    /// <summary>The register is held by this image.</summary>
    public bool Has(string name) => ImageRegisters.Find(name) is { } r && r.Parts.All(p => Layout.Find(p.Component) is not null);

    /// <summary>The value of register <paramref name="name"/> (any case), little-endian, <see cref="ImageRegister.Bytes"/>
    /// long. <see cref="ArgumentException"/> for a name the image does not hold.</summary>
    public byte[] ReadRegister(string name) => Read(Resolve(name));

    /// <summary><see cref="ReadRegister"/> as one lower-case hex number of the register's full width.</summary>
    public string ReadRegisterHex(string name)
    {
        var r = Resolve(name);
        return ImageRegisters.Hex(r, Read(r));
    }

    /// <summary>Writes register <paramref name="name"/> from a little-endian <paramref name="value"/> of at most
    /// <see cref="ImageRegister.Bytes"/> bytes (zero-extended). Each component the register draws on is marked in
    /// use; one that was in its initial configuration first gets its initial value, so that its other registers keep
    /// the values they read as.</summary>
    public void WriteRegister(string name, ReadOnlySpan<byte> value)
    {
        var r = Resolve(name);
        if (value.Length > r.Bytes)
            throw new ArgumentException($"{r.Name} has {r.Bytes} bytes, the value {value.Length}", nameof(value));
        Span<byte> v = stackalloc byte[r.Bytes];
        v.Clear();
        value.CopyTo(v);
        int at = 0;
        foreach (var p in r.Parts)
        {
            MakeInUse(p.Component);
            v.Slice(at, p.Bytes).CopyTo(_bytes.AsSpan(Address(p), p.Bytes));
            at += p.Bytes;
        }
    }

    /// <summary>Sets the XSTATE_BV bit of <paramref name="component"/>, writing its initial configuration first when
    /// it was clear (the image's bytes for it may be stale).</summary>
    public void MakeInUse(int component)
    {
        if (IsInUse(component))
            return;
        if (component == (int)XFeature.Fp)
        {
            _bytes.AsSpan(0, XsaveOffsets.FpEnvSize).Clear();
            _bytes.AsSpan(XsaveOffsets.StSpace, XsaveOffsets.StSpaceSize).Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan(XsaveOffsets.Fcw), XsaveCpu.InitFcw);
        }
        else
            Locate(component).Clear();
        XstateBv |= 1UL << component;
    }

    private byte[] Read(ImageRegister r)
    {
        var v = new byte[r.Bytes];
        int at = 0;
        foreach (var p in r.Parts)
        {
            if (IsInUse(p.Component) || IsAlwaysRead(p.Offset, p.Component))
                _bytes.AsSpan(Address(p), p.Bytes).CopyTo(v.AsSpan(at));
            else if (p.Component == (int)XFeature.Fp && p.Offset == XsaveOffsets.Fcw)
                BinaryPrimitives.WriteUInt16LittleEndian(v.AsSpan(at), XsaveCpu.InitFcw);
            at += p.Bytes;
        }
        int spare = r.Bytes * 8 - r.Bits;
        if (spare > 0)
            v[^1] &= (byte)(0xFF >> spare);
        return v;
    }

    /// <summary>MXCSR and MXCSR_MASK: SSE-register offsets inside the x87 range, never in an initial configuration of
    /// their own.</summary>
    private static bool IsAlwaysRead(int offset, int component) =>
        component == (int)XFeature.Sse && offset is XsaveOffsets.Mxcsr or XsaveOffsets.MxcsrMask;

    private int Address(RegisterPart p) => p.Component <= 1 ? p.Offset : Layout.Find(p.Component)!.Value.Offset + p.Offset;

    private ImageRegister Resolve(string name)
    {
        var r = ImageRegisters.Find(name) ?? throw new ArgumentException($"no register named '{name}'", nameof(name));
        if (r.Parts.FirstOrDefault(p => Layout.Find(p.Component) is null) is { Bytes: > 0 } missing)
            throw new ArgumentException($"{r.Name} is in component {missing.Component}, which this image's layout has no place for", nameof(name));
        return r;
    }
}
