using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace XsaveLab.Host.Native;

/// <summary>
/// Runs XGETBV, XSAVE64, XSAVEC64, XSAVEOPT64 and XRSTOR64 on this processor, for differential tests of the
/// XSAVE model and for timing the real instructions.
/// </summary>
/// <remarks>
/// <para>Machine-code stubs are emitted once per instance into a sealed <see cref="ExecutableMemory"/> and
/// called through <c>delegate* unmanaged</c>. Each probe is one native call that (1) XSAVE64s the runtime's
/// live state with RFBM = all ones into a scratch area, (2) XRSTOR64s the test image, (3) runs the
/// instruction(s) under test, (4) XRSTOR64s the scratch area with all ones, so the runtime's SSE/AVX/AVX-512
/// registers and XINUSE are what they were (host-interfaces "Safety rules" 1–3). XGETBV(1) is read at
/// entry, after the restore and at exit (<see cref="NativeProbeResult"/>).</para>
/// <para>Every buffer handed to XRSTOR is checked first (<see cref="CheckRestorable"/>) so that no probe
/// can #GP (which kills the process): XSTATE_BV/XCOMP_BV rules of SDM Vol.1 §13.8, MXCSR within
/// <see cref="MxcsrMask"/>, and PKRU — a restore mask may include PKRU (bit 9) only when the value it
/// would load equals the live PKRU, so protection key 0 stays accessible. Header bytes 528..575 of an image
/// are zeroed before it is restored (they must be zero for either form, and no save instruction writes them).</para>
/// <para>Buffers are 64-byte aligned native memory of <see cref="AreaSize"/> bytes, allocated once; calls
/// copy the caller's spans in and out and do not allocate. An instance is not thread-safe. Linux x86-64
/// only: check <see cref="IsSupported"/> (and <see cref="UnsupportedReason"/>) first.</para>
/// <para>Things the host may do behind a probe's back: a context switch in the middle of a call saves and
/// restores the state with XSAVES/XRSTORS, which preserves register values but ends the tracking used by
/// XSAVEOPT's modified optimization.</para>
/// <example>
/// <code>
/// if (!NativeXsave.IsSupported) return;                       // NativeXsave.UnsupportedReason says why
/// using var cpu = new NativeXsave();
/// var image = new byte[cpu.AreaSize];
/// cpu.SaveLive(NativeSaveKind.Xsave, cpu.Xcr0, image);       // a valid standard image (live PKRU, MXCSR)
/// image.AsSpan(512, 64).Clear();
/// image.AsSpan(160, 16).Fill(0x5A);                           // XMM0
/// BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(512), cpu.Xcr0 &amp; 3); // XSTATE_BV: x87, SSE
/// var output = new byte[cpu.AreaSize];
/// output.AsSpan().Fill(0xCC);                                 // untouched bytes stay 0xCC
/// var r = cpu.Probe(NativeSaveKind.Xsavec, image, cpu.Xcr0, cpu.Xcr0, output);
/// // output: the compacted image XSAVEC wrote; r.Xgetbv1AfterRestore: XCR0 AND XINUSE after the XRSTOR
/// long t0 = Stopwatch.GetTimestamp();
/// cpu.RunPairs(NativeSaveKind.Xsavec, cpu.Xcr0, 1_000_000, image); // timed XSAVEC64+XRSTOR64 pairs
/// </code>
/// </example>
/// </remarks>
public sealed unsafe class NativeXsave : IDisposable
{
    private const ulong PkruBit = 1UL << 9;
    private const ulong CompactedBit = 1UL << 63;
    private const int HeaderStart = 512, ReservedHeaderStart = 528, ExtendedStart = 576;
    private const int MxcsrOffset = 24, MxcsrMaskOffset = 28;

    private static readonly string? s_unsupportedReason = HostXsaveSupport.Check();

    private readonly XsaveStubs _stubs;
    private readonly AlignedBuffer _scratch, _image, _out, _out2, _clobber, _exit, _live, _blockMemory;
    private readonly ProbeBlock* _block;
    private readonly int[] _size = new int[64];
    private readonly int[] _standardOffset = new int[64];
    private readonly bool[] _align64 = new bool[64];
    private bool _disposed;

    /// <summary>True on Linux x86-64 when CPUID reports XSAVE and OSXSAVE and enumerates leaf 0xD.</summary>
    public static bool IsSupported => s_unsupportedReason is null;

    /// <summary>Why <see cref="IsSupported"/> is false (null when it is true).</summary>
    public static string? UnsupportedReason => s_unsupportedReason;

    /// <summary>Emits the stubs and allocates the buffers.</summary>
    /// <exception cref="PlatformNotSupportedException">Not <see cref="IsSupported"/>.</exception>
    public NativeXsave()
    {
        if (s_unsupportedReason is not null)
            throw new PlatformNotSupportedException("Native XSAVE harness unavailable: " + s_unsupportedReason);
        var (d1a, _, _, _) = X86Base.CpuId(0xD, 1);
        HasXsaveopt = (d1a & 1) != 0;
        HasXsavec = (d1a & 2) != 0;
        HasXgetbv1 = (d1a & 4) != 0;
        _stubs = new XsaveStubs(HasXgetbv1);
        Xcr0 = ((delegate* unmanaged<uint, ulong>)_stubs.Xgetbv)(0);

        var (_, d0b, d0c, _) = X86Base.CpuId(0xD, 0);
        StandardSize = d0b;
        for (int i = 2; i < 63; i++)
        {
            if ((Xcr0 >> i & 1) == 0)
                continue;
            var (a, b, c, _) = X86Base.CpuId(0xD, i);
            _size[i] = a;
            _standardOffset[i] = b;
            _align64[i] = (c & 2) != 0;
        }
        CompactedSize = CompactedEnd(Xcr0);
        AreaSize = (Math.Max(Math.Max(StandardSize, d0c), CompactedSize) + 63) & ~63;

        _scratch = new AlignedBuffer(AreaSize);
        _image = new AlignedBuffer(AreaSize);
        _out = new AlignedBuffer(AreaSize);
        _out2 = new AlignedBuffer(AreaSize);
        _clobber = new AlignedBuffer(AreaSize);
        _exit = new AlignedBuffer(AreaSize);
        _live = new AlignedBuffer(AreaSize);
        _blockMemory = new AlignedBuffer(sizeof(ProbeBlock));
        _block = (ProbeBlock*)_blockMemory.Pointer;

        // FXSAVE/XSAVE store MXCSR_MASK; 0 there means the default mask 0xFFBF (SDM Vol.1 §11.6.6).
        CallSaveLive(NativeSaveKind.Xsave, 3);
        uint mask = BinaryPrimitives.ReadUInt32LittleEndian(_live.Span[MxcsrMaskOffset..]);
        MxcsrMask = mask == 0 ? 0xFFBFu : mask;
    }

    /// <summary>XCR0 as read with XGETBV(0) when the instance was created.</summary>
    public ulong Xcr0 { get; }

    /// <summary>CPUID(0xD,1).EAX[0].</summary>
    public bool HasXsaveopt { get; }

    /// <summary>CPUID(0xD,1).EAX[1].</summary>
    public bool HasXsavec { get; }

    /// <summary>CPUID(0xD,1).EAX[2]: XGETBV with ECX = 1 returns XCR0 AND XINUSE.</summary>
    public bool HasXgetbv1 { get; }

    /// <summary>MXCSR bits XRSTOR accepts (from the live XSAVE image; 0xFFBF when the CPU stores 0).</summary>
    public uint MxcsrMask { get; }

    /// <summary>CPUID(0xD,0).EBX: size of the standard-form area for the current XCR0.</summary>
    public int StandardSize { get; }

    /// <summary>Size of the compacted-form area for RFBM = XCR0 (offsets from CPUID(0xD,i), SDM Vol.1 §13.4.3).</summary>
    public int CompactedSize { get; }

    /// <summary>Size of every native buffer and the longest span any call accepts: the larger of the
    /// standard and compacted sizes, rounded up to 64.</summary>
    public int AreaSize { get; }

    /// <summary>When true, each probe and loop XSAVE64s the live state again after putting it back, into
    /// <see cref="ExitState"/>, so a test can compare it with <see cref="EntryState"/> byte for byte.</summary>
    public bool CaptureExitState { get; set; }

    /// <summary>The runtime's state as XSAVE64 (RFBM all ones, standard form) stored it at the start of the
    /// last probe or loop. Valid until the next call or <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> EntryState => Live(_scratch).Span;

    /// <summary>The runtime's state saved right after it was restored at the end of the last call, when
    /// <see cref="CaptureExitState"/> was set (otherwise stale). Valid until the next call or <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> ExitState => Live(_exit).Span;

    /// <summary>Whether the processor enumerates <paramref name="kind"/>.</summary>
    public bool Supports(NativeSaveKind kind) => kind switch
    {
        NativeSaveKind.Xsave => true,
        NativeSaveKind.Xsavec => HasXsavec,
        NativeSaveKind.Xsaveopt => HasXsaveopt,
        _ => false,
    };

    /// <summary>The restore mask that never touches PKRU: XCR0 without bit 9.</summary>
    public ulong RestoreMaskWithoutPkru => Xcr0 & ~PkruBit;

    /// <summary>Offset of component <paramref name="feature"/> (2..62, in XCR0) in the standard form, else -1.</summary>
    public int StandardOffsetOf(int feature) =>
        (uint)feature < 63 && (Xcr0 >> feature & 1) != 0 && feature >= 2 ? _standardOffset[feature] : -1;

    /// <summary>Offset of component <paramref name="feature"/> (2..62) in a compacted area whose XCOMP_BV is
    /// <paramref name="xcompBv"/>, else -1 when the component is not part of it.</summary>
    public int CompactedOffsetOf(ulong xcompBv, int feature)
    {
        if ((uint)feature >= 63 || feature < 2 || ((xcompBv & Xcr0) >> feature & 1) == 0)
            return -1;
        int off = ExtendedStart;
        for (int i = 2; i <= feature; i++)
        {
            if (((xcompBv & Xcr0) >> i & 1) == 0)
                continue;
            if (_align64[i])
                off = (off + 63) & ~63;
            if (i == feature)
                return off;
            off += _size[i];
        }
        return -1;
    }

    /// <summary>XGETBV: ECX = 0 returns XCR0; ECX = 1 returns XCR0 AND XINUSE of the calling thread right
    /// now (the runtime's own in-use state, which changes as it uses vector registers).</summary>
    /// <exception cref="ArgumentOutOfRangeException">ECX other than 0, or 1 without XGETBV1 (the
    /// instruction would #GP).</exception>
    public ulong Xgetbv(uint ecx)
    {
        ThrowIfDisposed();
        if (ecx > 1 || (ecx == 1 && !HasXgetbv1))
            throw new ArgumentOutOfRangeException(nameof(ecx), ecx, ecx == 1 ? "XGETBV1 is not enumerated (CPUID(0xD,1).EAX[2] = 0)" : "only XCR0 (0) and XINUSE (1) exist");
        return ((delegate* unmanaged<uint, ulong>)_stubs.Xgetbv)(ecx);
    }

    /// <summary>Runs one save instruction on the live state (nothing restored first): a convenient source
    /// of valid images whose PKRU and MXCSR are the live values. Bytes the instruction does not write
    /// keep the values <paramref name="output"/> held.</summary>
    public void SaveLive(NativeSaveKind kind, ulong rfbm, Span<byte> output)
    {
        RequireKind(kind);
        CheckLength(output.Length, nameof(output));
        var live = _live.Span;
        output.CopyTo(live);
        live[output.Length..].Clear();
        CallSaveLive(kind, rfbm);
        live[..output.Length].CopyTo(output);
    }

    /// <summary>The live PKRU (0 when XCR0 does not enable PKRU).</summary>
    public uint ReadPkru()
    {
        ThrowIfDisposed();
        if ((Xcr0 & PkruBit) == 0)
            return 0;
        CallSaveLive(NativeSaveKind.Xsave, PkruBit);
        return BinaryPrimitives.ReadUInt32LittleEndian(_live.Span[_standardOffset[9]..]);
    }

    /// <summary>
    /// XRSTOR64 <paramref name="image"/> with EDX:EAX = <paramref name="restoreMask"/>, read XGETBV(1), then
    /// run <paramref name="kind"/> with EDX:EAX = <paramref name="saveMask"/> on a copy of
    /// <paramref name="output"/> and copy the result back: bytes the instruction does not write keep the
    /// caller's fill. All inside one native call that puts the runtime's state back.
    /// </summary>
    /// <param name="kind">The save instruction under test.</param>
    /// <param name="image">Standard or compacted image, at least 576 bytes, at most <see cref="AreaSize"/>;
    /// shorter images are zero-extended and bytes 528..575 are zeroed.</param>
    /// <param name="restoreMask">EDX:EAX for the XRSTOR64 (RFBM = XCR0 AND mask).</param>
    /// <param name="saveMask">EDX:EAX for the save (RFBM = XCR0 AND mask).</param>
    /// <param name="output">In: the fill (pre-set bytes, e.g. 0xCC); out: the area after the save. Bytes
    /// past its length up to <see cref="AreaSize"/> are filled with zero in the native copy.</param>
    /// <exception cref="ArgumentException">The image would fault or would change PKRU (<see cref="CheckRestorable"/>).</exception>
    /// <exception cref="PlatformNotSupportedException">The CPU does not enumerate <paramref name="kind"/>.</exception>
    public NativeProbeResult Probe(NativeSaveKind kind, ReadOnlySpan<byte> image, ulong restoreMask, ulong saveMask, Span<byte> output)
    {
        RequireKind(kind);
        LoadImage(_image, image, restoreMask, nameof(image));
        LoadFill(_out, output, nameof(output), restorable: false);
        Reset();
        _block->Image = _image.Address;
        _block->RestoreMask = restoreMask;
        _block->Output = _out.Address;
        _block->SaveMask = saveMask;
        Call(_stubs.Probe[(int)kind]);
        _out.Span[..output.Length].CopyTo(output);
        return Result();
    }

    /// <summary>
    /// <see cref="Probe"/> followed, in the same native call, by XRSTOR64 of the first output with
    /// <paramref name="restoreMask2"/> and <paramref name="kind2"/> with <paramref name="saveMask2"/> into
    /// <paramref name="output2"/>: e.g. XSAVEC then "XRSTOR the compacted image, XSAVE everything" to see the
    /// register state an XRSTOR produced.
    /// </summary>
    /// <remarks>So that the first output can be restored, bytes 512..575 of its fill are set to zero, and
    /// MXCSR (bytes 24..27) to 0x1F80 when the fill's value has bits outside <see cref="MxcsrMask"/>. The
    /// second restore mask may not include PKRU (the value it would load is only known afterwards).</remarks>
    public NativeProbeResult ProbeRoundTrip(NativeSaveKind kind, ReadOnlySpan<byte> image, ulong restoreMask, ulong saveMask, Span<byte> output,
        ulong restoreMask2, NativeSaveKind kind2, ulong saveMask2, Span<byte> output2)
    {
        RequireKind(kind);
        RequireKind(kind2);
        if ((Xcr0 & restoreMask2 & PkruBit) != 0)
            throw new ArgumentException("the second restore mask includes PKRU (bit 9); leave it out so key 0 stays accessible", nameof(restoreMask2));
        LoadImage(_image, image, restoreMask, nameof(image));
        LoadFill(_out, output, nameof(output), restorable: true);
        LoadFill(_out2, output2, nameof(output2), restorable: false);
        Reset();
        _block->Image = _image.Address;
        _block->RestoreMask = restoreMask;
        _block->Output = _out.Address;
        _block->SaveMask = saveMask;
        _block->RestoreMask2 = restoreMask2;
        _block->Output2 = _out2.Address;
        _block->SaveMask2 = saveMask2;
        Call(_stubs.ProbeRoundTrip[(int)kind * 3 + (int)kind2]);
        _out.Span[..output.Length].CopyTo(output);
        _out2.Span[..output2.Length].CopyTo(output2);
        return Result();
    }

    /// <summary>
    /// The modified-optimization probe: XRSTOR64 from area A (= <paramref name="image"/>), overwrite A with
    /// <paramref name="clobber"/>, XSAVEOPT64 A → <paramref name="first"/>, overwrite A with the clobber
    /// again, XSAVEOPT64 A → <paramref name="second"/>. Both saves use the address of the most recent
    /// XRSTOR, the condition for the modified optimization (SDM Vol.1 §13.6); components the processor
    /// skips keep the clobber bytes, components it writes carry the register values of the image.
    /// </summary>
    /// <param name="image">Loaded into area A and restored from there (checked as in <see cref="Probe"/>).</param>
    /// <param name="restoreMask">EDX:EAX for the XRSTOR64.</param>
    /// <param name="saveMask">EDX:EAX for both XSAVEOPT64s.</param>
    /// <param name="first">Out: A after the first XSAVEOPT.</param>
    /// <param name="second">Out: A after the second XSAVEOPT.</param>
    /// <param name="clobber">Bytes written over the start of A after the XRSTOR (empty: none, and the
    /// probe is "XRSTOR, XSAVEOPT twice" to the same address).</param>
    /// <remarks>Overwriting the area between XRSTOR and XSAVEOPT is exactly what the SDM tells software not to
    /// do; here it is the point of the experiment. <see cref="NativeProbeResult.Xgetbv1SecondStep"/> is read
    /// after the second XSAVEOPT.</remarks>
    public NativeProbeResult ProbeXsaveoptTwice(ReadOnlySpan<byte> image, ulong restoreMask, ulong saveMask, ReadOnlySpan<byte> clobber,
        Span<byte> first, Span<byte> second)
    {
        RequireKind(NativeSaveKind.Xsaveopt);
        CheckLength(clobber.Length, nameof(clobber));
        CheckLength(first.Length, nameof(first));
        CheckLength(second.Length, nameof(second));
        LoadImage(_out, image, restoreMask, nameof(image));
        clobber.CopyTo(_clobber.Span);
        Reset();
        _block->RestoreMask = restoreMask;
        _block->Output = _out.Address;
        _block->SaveMask = saveMask;
        _block->Clobber = _clobber.Address;
        _block->ClobberLength = (ulong)clobber.Length;
        _block->Output2 = _out2.Address;
        _block->CopyLength = (ulong)AreaSize;
        Call(_stubs.XsaveoptTwice);
        _out2.Span[..first.Length].CopyTo(first);
        _out.Span[..second.Length].CopyTo(second);
        return Result();
    }

    /// <summary>Benchmark loop: in one native call, XRSTOR64 <paramref name="image"/> with
    /// <paramref name="rfbm"/> (making its XSTATE_BV components non-init), then <paramref name="count"/> times
    /// { <paramref name="kind"/> [buf]; XRSTOR64 [buf] } with EDX:EAX = <paramref name="rfbm"/>, then the
    /// runtime's state is put back. Time the call with a Stopwatch and divide by the count; a call with
    /// count 0 measures the fixed cost. With XSAVEOPT every save after the first follows an XRSTOR from the
    /// same address, so the modified optimization can apply.</summary>
    public NativeProbeResult RunPairs(NativeSaveKind kind, ulong rfbm, long count, ReadOnlySpan<byte> image) =>
        RunLoop(_stubs.Pairs, kind, rfbm, count, image);

    /// <summary>As <see cref="RunPairs"/> but the loop body is only the save instruction.</summary>
    public NativeProbeResult RunSaves(NativeSaveKind kind, ulong rfbm, long count, ReadOnlySpan<byte> image) =>
        RunLoop(_stubs.Saves, kind, rfbm, count, image);

    /// <summary>Loops only XRSTOR64 of <paramref name="image"/> (standard or compacted) with
    /// <paramref name="rfbm"/>, <paramref name="count"/> times, inside one native call.</summary>
    public NativeProbeResult RunRestores(ulong rfbm, long count, ReadOnlySpan<byte> image)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        LoadImage(_image, image, rfbm, nameof(image));
        Reset();
        _block->Image = _image.Address;
        _block->RestoreMask = rfbm;
        _block->Count = (ulong)count;
        Call(_stubs.Restores);
        return Result();
    }

    /// <summary>
    /// Null when XRSTOR64 of <paramref name="image"/> with <paramref name="restoreMask"/> is safe to run
    /// here, otherwise why the harness refuses it. Bytes 528..575 are ignored (the harness zeroes them).
    /// </summary>
    /// <remarks>Refused: standard form with XSTATE_BV outside XCR0 or XCOMP_BV ≠ 0; compacted form without
    /// XSAVEC, with XCOMP_BV[62:0] outside XCR0 or XSTATE_BV outside XCOMP_BV (each a #GP, SDM Vol.1 §13.8);
    /// MXCSR with bits outside MXCSR_MASK when it would be loaded (#GP); a PKRU value other than the live
    /// one (protection key 0 must stay accessible while the stub runs).</remarks>
    public string? CheckRestorable(ReadOnlySpan<byte> image, ulong restoreMask)
    {
        ThrowIfDisposed();
        if (image.Length < ExtendedStart)
            return $"an image needs at least {ExtendedStart} bytes (legacy region and header); got {image.Length}";
        if (image.Length > AreaSize)
            return $"an image is at most {AreaSize} bytes here; got {image.Length}";
        ulong xstateBv = BinaryPrimitives.ReadUInt64LittleEndian(image[HeaderStart..]);
        ulong xcompBv = BinaryPrimitives.ReadUInt64LittleEndian(image[(HeaderStart + 8)..]);
        ulong rfbm = Xcr0 & restoreMask;
        bool compacted = (xcompBv & CompactedBit) != 0;
        if (!compacted)
        {
            if ((xstateBv & ~Xcr0) != 0)
                return $"XSTATE_BV 0x{xstateBv:X} has bits outside XCR0 0x{Xcr0:X} (XRSTOR would #GP)";
            if (xcompBv != 0)
                return $"XCOMP_BV 0x{xcompBv:X} must be 0 in a standard-form image (XRSTOR would #GP)";
        }
        else
        {
            if (!HasXsavec)
                return "a compacted image needs XSAVEC support (XRSTOR would #GP)";
            ulong comp = xcompBv & ~CompactedBit;
            if ((comp & ~Xcr0) != 0)
                return $"XCOMP_BV 0x{xcompBv:X} has bits outside XCR0 0x{Xcr0:X} (XRSTOR would #GP)";
            if ((xstateBv & ~comp) != 0)
                return $"XSTATE_BV 0x{xstateBv:X} has bits outside XCOMP_BV 0x{xcompBv:X} (XRSTOR would #GP)";
        }

        uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(image[MxcsrOffset..]);
        bool mxcsrLoaded = compacted ? (rfbm & xstateBv & 6) != 0 : (rfbm & 6) != 0;
        if (mxcsrLoaded && (mxcsr & ~MxcsrMask) != 0)
            return $"MXCSR 0x{mxcsr:X8} has bits outside MXCSR_MASK 0x{MxcsrMask:X8} (XRSTOR would #GP)";

        if ((rfbm & PkruBit) != 0)
        {
            uint value = 0; // PKRU's initial configuration
            if ((xstateBv & PkruBit) != 0)
            {
                int off = compacted ? CompactedOffsetOf(xcompBv, 9) : _standardOffset[9];
                value = off >= 0 && off + 4 <= image.Length ? BinaryPrimitives.ReadUInt32LittleEndian(image[off..]) : 0;
            }
            uint live = ReadPkru();
            if (value != live)
                return $"the restore would load PKRU 0x{value:X8} but the live value is 0x{live:X8}; leave bit 9 out of the restore mask or use the live value";
        }
        return null;
    }

    /// <summary>Frees the buffers and unmaps the stubs.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _stubs.Dispose();
        _scratch.Dispose();
        _image.Dispose();
        _out.Dispose();
        _out2.Dispose();
        _clobber.Dispose();
        _exit.Dispose();
        _live.Dispose();
        _blockMemory.Dispose();
    }

    /// <summary>Stub names and addresses, for disassembly checks.</summary>
    internal IReadOnlyDictionary<string, nint> StubListing => _stubs.Listing;

    internal ReadOnlySpan<byte> StubBytes(string name) => _stubs.Memory.Read(_stubs.Listing[name], _stubs.Lengths[name]);

    private NativeProbeResult RunLoop(nint[] stubs, NativeSaveKind kind, ulong rfbm, long count, ReadOnlySpan<byte> image)
    {
        RequireKind(kind);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        LoadImage(_image, image, rfbm, nameof(image));
        _out.Span.Clear(); // the loop restores from it: header must be valid from the first save on
        Reset();
        _block->Image = _image.Address;
        _block->RestoreMask = rfbm;
        _block->Output = _out.Address;
        _block->SaveMask = rfbm;
        _block->Count = (ulong)count;
        Call(stubs[(int)kind]);
        return Result();
    }

    private int CompactedEnd(ulong xcompBv)
    {
        int off = ExtendedStart;
        for (int i = 2; i < 63; i++)
        {
            if (((xcompBv & Xcr0) >> i & 1) == 0)
                continue;
            if (_align64[i])
                off = (off + 63) & ~63;
            off += _size[i];
        }
        return off;
    }

    private void LoadImage(AlignedBuffer target, ReadOnlySpan<byte> image, ulong restoreMask, string param)
    {
        ThrowIfDisposed();
        if (CheckRestorable(image, restoreMask) is { } problem)
            throw new ArgumentException(problem, param);
        var dst = target.Span;
        image.CopyTo(dst);
        dst[image.Length..].Clear();
        dst[ReservedHeaderStart..ExtendedStart].Clear();
    }

    private void LoadFill(AlignedBuffer target, ReadOnlySpan<byte> fill, string param, bool restorable)
    {
        CheckLength(fill.Length, param);
        var dst = target.Span;
        fill.CopyTo(dst);
        dst[fill.Length..].Clear();
        if (!restorable)
            return;
        dst[HeaderStart..ExtendedStart].Clear();
        if ((BinaryPrimitives.ReadUInt32LittleEndian(dst[MxcsrOffset..]) & ~MxcsrMask) != 0)
            BinaryPrimitives.WriteUInt32LittleEndian(dst[MxcsrOffset..], 0x1F80);
    }

    private void CheckLength(int length, string param)
    {
        ThrowIfDisposed();
        if (length > AreaSize)
            throw new ArgumentException($"at most {AreaSize} bytes here; got {length}", param);
    }

    private void RequireKind(NativeSaveKind kind)
    {
        ThrowIfDisposed();
        if (!Supports(kind))
            throw new PlatformNotSupportedException($"this processor does not enumerate {kind} (CPUID(0xD,1).EAX)");
    }

    private void Reset()
    {
        *_block = default;
        _block->Scratch = _scratch.Address;
        _block->ExitState = CaptureExitState ? _exit.Address : 0;
    }

    private void Call(nint stub) => ((delegate* unmanaged<ProbeBlock*, void>)stub)(_block);

    private void CallSaveLive(NativeSaveKind kind, ulong rfbm) =>
        ((delegate* unmanaged<byte*, ulong, void>)_stubs.SaveLive[(int)kind])(_live.Pointer, rfbm);

    private NativeProbeResult Result() =>
        new(_block->Xgetbv1AtEntry, _block->Xgetbv1AfterRestore, _block->Xgetbv1SecondStep, _block->Xgetbv1AtExit);

    private AlignedBuffer Live(AlignedBuffer b)
    {
        ThrowIfDisposed();
        return b;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
