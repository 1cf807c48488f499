namespace XsaveLab.Sim.Measure;

/// <summary>One end of a real ping-pong: runs the native loop of <see cref="PingPongCode"/> with the chosen
/// vector state. Owns the executable page and the XSAVE images; one instance may serve several threads.</summary>
public sealed unsafe class PingPongEngine : IDisposable
{
    private readonly ExecutableMemory _code;
    private readonly delegate* unmanaged<PingPongArgs*, void> _loop;
    private readonly byte* _wideImage;
    private readonly byte* _initImage;
    private readonly int _areaSize;

    private PingPongEngine()
    {
        var d1 = X86Base.CpuId(1, 0);
        OsXsave = ((uint)d1.Ecx >> 27 & 1) != 0;
        _code = new ExecutableMemory(4096);
        nint loop = _code.Emit(PingPongCode.Loop);
        nint xgetbv = OsXsave ? _code.Emit(PingPongCode.Xgetbv) : 0;
        _code.Seal();
        _loop = (delegate* unmanaged<PingPongArgs*, void>)loop;
        if (!OsXsave)
            return;

        Xcr0 = ((delegate* unmanaged<uint, ulong>)xgetbv)(0);
        HasXgetbv1 = ((uint)X86Base.CpuId(0xD, 1).Eax >> 2 & 1) != 0;
        WideMask = Xcr0 & (XFeatureMasks.Ymm | XFeatureMasks.Avx512);
        _areaSize = (X86Base.CpuId(0xD, 0).Ebx + 63 + 64) & ~63;
        _wideImage = AllocArea();
        _initImage = AllocArea();
        // MXCSR is loaded whenever RFBM has SSE or AVX (SDM Vol.1 §13.8.1): keep the power-on default.
        *(uint*)(_wideImage + 24) = 0x1F80;
        *(uint*)(_initImage + 24) = 0x1F80;
        for (int i = 2; i < 8; i++)
        {
            if ((WideMask >> i & 1) == 0)
                continue;
            var leaf = X86Base.CpuId(0xD, i);
            int size = leaf.Eax, offset = leaf.Ebx;
            for (int b = 0; b < size; b++)
                _wideImage[offset + b] = (byte)(0x11 * i + b % 251 + 1);
        }
        *(ulong*)(_wideImage + XsaveOffsets.XstateBv) = WideMask;
        *(ulong*)(_initImage + XsaveOffsets.XstateBv) = 0;
    }

    /// <summary>Probes this machine (CPUID, XGETBV) and prepares the loop. Linux x86-64 only.</summary>
    public static PingPongEngine Create()
    {
        if (!OperatingSystem.IsLinux() || !X86Base.X64.IsSupported)
            throw new PlatformNotSupportedException("The real ping-pong needs Linux on x86-64.");
        return new PingPongEngine();
    }

    /// <summary>CR4.OSXSAVE as seen through CPUID.1:ECX[27].</summary>
    public bool OsXsave { get; }
    public ulong Xcr0 { get; }
    public bool HasXgetbv1 { get; }

    /// <summary>The AVX/AVX-512 components (XCR0 ∩ {2,5,6,7}) that <see cref="VectorState.Wide"/> fills.</summary>
    public ulong WideMask { get; }

    /// <summary>Can <paramref name="state"/> be established here?</summary>
    public bool Supports(VectorState state) => state == VectorState.AsIs || (OsXsave && WideMask != 0);

    /// <summary>Runs <paramref name="rounds"/> round trips on the given pipe ends (blocking).</summary>
    public PingPongOutcome Run(int readFd, int writeFd, long rounds, bool initiator, VectorState state)
    {
        ObjectDisposedException.ThrowIf(_code.BaseAddress == 0, this);
        if (!Supports(state))
            throw new InvalidOperationException($"Vector state {state} needs XSAVE with AVX enabled.");
        var args = (PingPongArgs*)NativeMemory.AlignedAlloc((nuint)sizeof(PingPongArgs), 64);
        byte* scratch = state == VectorState.AsIs ? null : AllocArea();
        try
        {
            *args = default;
            args->ReadFd = readFd;
            args->WriteFd = writeFd;
            args->Rounds = rounds;
            args->Initiator = initiator ? 1 : 0;
            args->WantXinUse = HasXgetbv1 ? 1 : 0;
            if (state != VectorState.AsIs)
            {
                args->Image = (nint)(state == VectorState.Wide ? _wideImage : _initImage);
                args->RestoreMask = WideMask;
                args->Scratch = (nint)scratch;
            }
            _loop(args);
            return new PingPongOutcome(args->Completed, args->Status, HasXgetbv1 ? args->XinUse : null);
        }
        finally
        {
            if (scratch != null)
                NativeMemory.AlignedFree(scratch);
            NativeMemory.AlignedFree(args);
        }
    }

    private byte* AllocArea()
    {
        var p = (byte*)NativeMemory.AlignedAlloc((nuint)_areaSize, 64);
        NativeMemory.Clear(p, (nuint)_areaSize);
        return p;
    }

    /// <summary>A thread may still be inside the loop (it did not stop in time): keep the code page and images
    /// mapped for the life of the process instead of unmapping them under it.</summary>
    internal void Abandon() => GC.SuppressFinalize(_code);

    public void Dispose()
    {
        if (_wideImage != null)
        {
            NativeMemory.AlignedFree(_wideImage);
            NativeMemory.AlignedFree(_initImage);
        }
        _code.Dispose();
    }
}

/// <summary>What one call of the native loop did.</summary>
/// <param name="Completed">Round trips completed.</param>
/// <param name="Status">1 = all done, 0 = the other side closed its pipe, negative = −errno.</param>
/// <param name="XinUse">XGETBV(1) (= XCR0 ∧ XINUSE) as the loop started, when the CPU has XGETBV1.</param>
public readonly record struct PingPongOutcome(long Completed, long Status, ulong? XinUse);
