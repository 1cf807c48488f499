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
/// registers and XINUSE are what they were (docs/host-interfaces.md items 1–3). XGETBV(1) is read at
/// entry, after the restore and at exit (<see cref="NativeProbeResult"/>).</para>
/// <para>Every buffer handed to XRSTOR is checked first (<see cref="CheckRestorable"/>) so that no probe
/// can #GP (which kills the process): XSTATE_BV/XCOMP_BV rules of SDM Vol.1 §13.8, MXCSR within
/// <see cref="MxcsrMask"/>, and PKRU — a restore mask may include PKRU (bit 9) only when the value it
/// would load equals the live PKRU, so protection key 0 stays accessible. Header bytes 528..575 of an image
/// are zeroed before it is restored (they must be zero for either form, and no save instruction writes them).</para>
/// <para>Buffers are 64-byte aligned native memory of <see cref="AreaSize"/> bytes, allocated once; calls
/// copy the caller's spans in and out and do not allocate. An instance is not thread-safe. Linux x86-64
/// only: check <see cref="IsSupported"/> (and <see cref="UnsupportedReason"/>) first.</para>
/// <para>Things the host may do behind a probe's back: a preemption in the middle of a call makes the kernel
/// save and reload the state (XSAVES/XRSTORS); register values survive, but afterwards a component in its
/// initial configuration may read as in use (seen for SSE, a few times in 100 000 probes), and the tracking
/// behind XSAVEOPT's modified optimization ends. Differential tests retry such a case with the same inputs.</para>
/// <para>Behaviour seen through this harness on an AMD family 1Ah host, which a model must allow for:
/// <list type="bullet">
/// <item>XRSTOR of a component whose data equal its initial configuration leaves XINUSE[i] = 0 even when
/// XSTATE_BV[i] = 1 (the SDM only promises that XINUSE[i] may be 1 for an initialised component).</item>
/// <item>XGETBV(1) bit 1 is also set while MXCSR ≠ 1F80H; XSAVEC then saves SSE (XMM and MXCSR, XSTATE_BV[1] = 1),
/// whereas XSAVEOPT skips the XMM registers (XSTATE_BV[1] = 0) but still writes MXCSR and MXCSR_MASK.</item>
/// <item>XSAVE/XSAVEOPT write MXCSR_MASK whenever they write MXCSR, whatever the restored image held there.</item>
/// <item>x87 words read back normalised: FCW bit 6 set and bits 13..15 clear; FSW.ES and FSW.B recomputed from
/// the exception flags left unmasked by FCW; reserved byte 5 written as 0.</item>
/// <item>FOP/FIP/FDP are stored as zero unless FSW.ES = 1, although CPUID 0x80000008 EBX[2] (XSaveErPtr) is set;
/// with ES = 1, FIP/FDP come back sign-extended from bit 56 and FOP as 11 bits.</item>
/// <item>The modified optimization is used: after XRSTOR from area A, XSAVEOPT to A wrote no component data
/// (only MXCSR, MXCSR_MASK and XSTATE_BV), and so did a second XSAVEOPT to A
/// (<see cref="ProbeXsaveoptTwice"/> makes this visible by overwriting A in between).</item>
/// </list></para>
/// <para>"Register state after XRSTOR" is what <see cref="Probe"/> with <see cref="SaveInstruction.Xsave"/> and
/// a save mask of all ones returns; components outside the restore mask keep the runtime's values, which
/// <see cref="EntryState"/> holds for the same call.</para>
/// <example>
/// <code>
/// if (!NativeXsave.IsSupported) return;                       // NativeXsave.UnsupportedReason says why
/// using var cpu = new NativeXsave();
/// var image = new byte[cpu.AreaSize];
/// cpu.SaveLive(SaveInstruction.Xsave, cpu.Xcr0, image);       // a valid standard image: live PKRU, MXCSR, XSTATE_BV
/// image.AsSpan(160, 16).Fill(0x5A);                           // XMM0
/// image[512] |= 2;                                            // XSTATE_BV[1]: SSE data present
/// var output = new byte[cpu.AreaSize];
/// output.AsSpan().Fill(0xCC);                                 // untouched bytes stay 0xCC
/// var r = cpu.Probe(SaveInstruction.Xsavec, image, cpu.Xcr0, cpu.Xcr0, output);
/// // output: the compacted image XSAVEC wrote; r.Xgetbv1AfterRestore: XCR0 AND XINUSE after the XRSTOR
/// long t0 = Stopwatch.GetTimestamp();
/// cpu.RunPairs(SaveInstruction.Xsavec, cpu.Xcr0, 1_000_000, image); // timed XSAVEC64+XRSTOR64 pairs
/// </code>
/// </example>
/// </remarks>
public sealed unsafe partial class NativeXsave : IDisposable
{
    private const ulong PkruBit = 1UL << 9;
    private const ulong AmxBits = 3UL << 17; // XTILECFG, XTILEDATA
    private const ulong CompactedBit = 1UL << 63;

    private static readonly string? s_unsupportedReason = HostXsaveSupport.Check();

    private readonly XsaveStubs _stubs;
    private readonly AlignedBuffer _scratch, _image, _out, _out2, _clobber, _exit, _live, _blockMemory;
    private readonly ProbeBlock* _block;
    private readonly int[] _size = new int[64];
    private readonly int[] _standardOffset = new int[64];
    private readonly bool[] _align64 = new bool[64];
    private readonly ulong _neverRestored;
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
            if ((d1a & 16) != 0 && (c & 4) != 0)
                _neverRestored |= 1UL << i; // XFD-capable: Linux keeps it armed until the process asks
        }
        _neverRestored |= Xcr0 & AmxBits;
        CompactedSize = CompactedEnd(Xcr0);
        AreaSize = XsaveOffsets.Align64(Math.Max(Math.Max(StandardSize, d0c), CompactedSize));

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
        CallSaveLive(SaveInstruction.Xsave, 3);
        uint mask = BinaryPrimitives.ReadUInt32LittleEndian(_live.Span[XsaveOffsets.MxcsrMask..]);
        MxcsrMask = XsaveDataRules.EffectiveMxcsrMask(mask);
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
    public bool Supports(SaveInstruction kind) => kind switch
    {
        SaveInstruction.Xsave => true,
        SaveInstruction.Xsavec => HasXsavec,
        SaveInstruction.Xsaveopt => HasXsaveopt,
        _ => false,
    };

    /// <summary>Components of XCR0 an image may carry data for (XSTATE_BV bit set in a restore): all but AMX
    /// tile state and XFD-capable components, see <see cref="CheckRestorable"/>.</summary>
    public ulong RestorableComponents => Xcr0 & ~_neverRestored;

    /// <summary>The restore mask that never touches PKRU: XCR0 without bit 9.</summary>
    public ulong RestoreMaskWithoutPkru => Xcr0 & ~PkruBit;

    /// <summary>Offset of component <paramref name="feature"/> (2..62, in XCR0) in the standard form, else -1.</summary>
    public int StandardOffsetOf(int feature) =>
        (uint)feature < 63 && (Xcr0 >> feature & 1) != 0 && feature >= 2 ? _standardOffset[feature] : -1;

    /// <summary>XGETBV: ECX = 0 returns XCR0; ECX = 1 returns XCR0 AND XINUSE of the calling thread right
    /// now (the runtime's own in-use state, which changes as it uses vector registers).</summary>
    /// <exception cref="ArgumentOutOfRangeException">ECX other than 0, or 1 without XGETBV1 (the
    /// instruction would #GP).</exception>
    public ulong Xgetbv(uint ecx)
    {
        ThrowIfDisposed();
        if (ecx > 1 || (ecx == 1 && !HasXgetbv1))
            throw new ArgumentOutOfRangeException(nameof(ecx), ecx, ecx == 1 ? "XGETBV1 is not enumerated (CPUID(0xd,1).EAX[2] = 0)" : "only XCR0 (0) and XINUSE (1) exist");
        return ((delegate* unmanaged<uint, ulong>)_stubs.Xgetbv)(ecx);
    }

    /// <summary>Runs one save instruction on the live state (nothing restored first): a convenient source
    /// of valid images whose PKRU and MXCSR are the live values. Bytes the instruction does not write
    /// keep the values <paramref name="output"/> held.</summary>
    public void SaveLive(SaveInstruction kind, ulong rfbm, Span<byte> output)
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
        CallSaveLive(SaveInstruction.Xsave, PkruBit);
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
    public NativeProbeResult Probe(SaveInstruction kind, ReadOnlySpan<byte> image, ulong restoreMask, ulong saveMask, Span<byte> output)
    {
        RequireKind(kind);
        LoadImage(_image, image, restoreMask, nameof(image));
        LoadFill(_out, output, nameof(output), restorable: false);
        ResetForProbe(restoreMask, saveMask);
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
    public NativeProbeResult ProbeRoundTrip(SaveInstruction kind, ReadOnlySpan<byte> image, ulong restoreMask, ulong saveMask, Span<byte> output,
        ulong restoreMask2, SaveInstruction kind2, ulong saveMask2, Span<byte> output2)
    {
        RequireKind(kind);
        RequireKind(kind2);
        if ((Xcr0 & restoreMask2 & PkruBit) != 0)
            throw new ArgumentException("the second restore mask includes PKRU (bit 9); leave it out so key 0 stays accessible", nameof(restoreMask2));
        LoadImage(_image, image, restoreMask, nameof(image));
        LoadFill(_out, output, nameof(output), restorable: true);
        LoadFill(_out2, output2, nameof(output2), restorable: false);
        ResetForProbe(restoreMask, saveMask);
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
        RequireKind(SaveInstruction.Xsaveopt);
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
    public NativeProbeResult RunPairs(SaveInstruction kind, ulong rfbm, long count, ReadOnlySpan<byte> image) =>
        RunLoop(_stubs.Pairs, kind, rfbm, count, image);

    /// <summary>As <see cref="RunPairs"/> but the loop body is only the save instruction.</summary>
    public NativeProbeResult RunSaves(SaveInstruction kind, ulong rfbm, long count, ReadOnlySpan<byte> image) =>
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

    private NativeProbeResult RunLoop(nint[] stubs, SaveInstruction kind, ulong rfbm, long count, ReadOnlySpan<byte> image)
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

    private void RequireKind(SaveInstruction kind)
    {
        ThrowIfDisposed();
        if (!Supports(kind))
            throw new PlatformNotSupportedException($"this processor does not enumerate {kind} (CPUID(0xd,1).EAX)");
    }

    /// <summary>A cleared block for a probe: XRSTOR64 of the loaded image with <paramref name="restoreMask"/>, then
    /// the save with <paramref name="saveMask"/> into the first output.</summary>
    private void ResetForProbe(ulong restoreMask, ulong saveMask)
    {
        Reset();
        _block->Image = _image.Address;
        _block->RestoreMask = restoreMask;
        _block->Output = _out.Address;
        _block->SaveMask = saveMask;
    }

    private void Reset()
    {
        *_block = default;
        _block->Scratch = _scratch.Address;
        _block->ExitState = CaptureExitState ? _exit.Address : 0;
    }

    private void Call(nint stub) => ((delegate* unmanaged<ProbeBlock*, void>)stub)(_block);

    private void CallSaveLive(SaveInstruction kind, ulong rfbm) =>
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
