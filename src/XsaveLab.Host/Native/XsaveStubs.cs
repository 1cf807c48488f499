namespace XsaveLab.Host.Native;

/// <summary>The machine code of the harness, emitted once into one sealed <see cref="ExecutableMemory"/>.</summary>
/// <remarks>
/// Every probe stub takes a <see cref="ProbeBlock"/>* in RDI (System V), keeps it in R11 and uses only
/// caller-saved registers (RAX, RCX, RDX, RSI, RDI, R8–R11). Its first act is XSAVE64 of the live state
/// with RFBM = all ones into the scratch area and its last is XRSTOR64 of that area with all ones, so the
/// runtime never sees a foreign SSE/AVX/AVX-512/PKRU value (docs/host-interfaces.md item 2). No x87 or
/// SSE instruction runs in between, so arbitrary control words in a test image cannot raise #MF/#XM.
/// XGETBV with ECX = 1 is emitted only when CPUID(0xD,1).EAX[2] enumerates it (#GP otherwise).
/// </remarks>
internal sealed class XsaveStubs : IDisposable
{
    private static readonly int OffScratch = ProbeBlock.Offset(nameof(ProbeBlock.Scratch));
    private static readonly int OffImage = ProbeBlock.Offset(nameof(ProbeBlock.Image));
    private static readonly int OffRestoreMask = ProbeBlock.Offset(nameof(ProbeBlock.RestoreMask));
    private static readonly int OffOutput = ProbeBlock.Offset(nameof(ProbeBlock.Output));
    private static readonly int OffSaveMask = ProbeBlock.Offset(nameof(ProbeBlock.SaveMask));
    private static readonly int OffOutput2 = ProbeBlock.Offset(nameof(ProbeBlock.Output2));
    private static readonly int OffRestoreMask2 = ProbeBlock.Offset(nameof(ProbeBlock.RestoreMask2));
    private static readonly int OffSaveMask2 = ProbeBlock.Offset(nameof(ProbeBlock.SaveMask2));
    private static readonly int OffClobber = ProbeBlock.Offset(nameof(ProbeBlock.Clobber));
    private static readonly int OffClobberLength = ProbeBlock.Offset(nameof(ProbeBlock.ClobberLength));
    private static readonly int OffCopyLength = ProbeBlock.Offset(nameof(ProbeBlock.CopyLength));
    private static readonly int OffCount = ProbeBlock.Offset(nameof(ProbeBlock.Count));
    private static readonly int OffExitState = ProbeBlock.Offset(nameof(ProbeBlock.ExitState));
    private static readonly int OffAtEntry = ProbeBlock.Offset(nameof(ProbeBlock.Xgetbv1AtEntry));
    private static readonly int OffAfterRestore = ProbeBlock.Offset(nameof(ProbeBlock.Xgetbv1AfterRestore));
    private static readonly int OffSecondStep = ProbeBlock.Offset(nameof(ProbeBlock.Xgetbv1SecondStep));
    private static readonly int OffAtExit = ProbeBlock.Offset(nameof(ProbeBlock.Xgetbv1AtExit));

    private const Gpr Block = Gpr.R11, Area = Gpr.R10, Counter = Gpr.R9;

    private readonly ExecutableMemory _memory = new(16384);
    private readonly bool _xgetbv1;
    private readonly Dictionary<string, nint> _listing = [];

    public XsaveStubs(bool xgetbv1)
    {
        _xgetbv1 = xgetbv1;
        Xgetbv = Add("xgetbv", EmitXgetbv());
        for (int k = 0; k < 3; k++)
        {
            var kind = (SaveInstruction)k;
            SaveLive[k] = Add($"save-live-{kind}", EmitSaveLive(kind));
            Probe[k] = Add($"probe-{kind}", EmitProbe(kind, null));
            for (int k2 = 0; k2 < 3; k2++)
                ProbeRoundTrip[k * 3 + k2] = Add($"probe-{kind}-then-{(SaveInstruction)k2}", EmitProbe(kind, (SaveInstruction)k2));
            Pairs[k] = Add($"pairs-{kind}", EmitLoop(kind, withRestore: true));
            Saves[k] = Add($"saves-{kind}", EmitLoop(kind, withRestore: false));
        }
        XsaveoptTwice = Add("xsaveopt-twice", EmitXsaveoptTwice());
        Restores = Add("restores", EmitLoop(null, withRestore: true));
        _memory.Seal();
    }

    /// <summary>ulong (uint ecx)</summary>
    public nint Xgetbv { get; }

    /// <summary>void (byte* area, ulong rfbm), by <see cref="SaveInstruction"/>: saves the live state only.</summary>
    public nint[] SaveLive { get; } = new nint[3];

    /// <summary>void (ProbeBlock*), by kind.</summary>
    public nint[] Probe { get; } = new nint[3];

    /// <summary>void (ProbeBlock*), index kind*3 + kind2.</summary>
    public nint[] ProbeRoundTrip { get; } = new nint[9];

    public nint XsaveoptTwice { get; }

    public nint[] Pairs { get; } = new nint[3];

    public nint[] Saves { get; } = new nint[3];

    public nint Restores { get; }

    /// <summary>Name → address of every stub, for inspection (disassembly checks).</summary>
    public IReadOnlyDictionary<string, nint> Listing => _listing;

    public ExecutableMemory Memory => _memory;

    /// <summary>Emitted length of each stub by name.</summary>
    public Dictionary<string, int> Lengths { get; } = [];

    /// <summary>ENDBR64: a NOP unless indirect-branch tracking is on, in which case an indirect call must land on it.</summary>
    private static readonly byte[] Endbr64 = [0xF3, 0x0F, 0x1E, 0xFA];

    private nint Add(string name, byte[] body)
    {
        byte[] code = [.. Endbr64, .. body];
        nint p = _memory.Emit(code);
        _listing[name] = p;
        Lengths[name] = code.Length;
        return p;
    }

    private static XsaveOp Op(SaveInstruction kind) => kind switch
    {
        SaveInstruction.Xsave => XsaveOp.Xsave64,
        SaveInstruction.Xsavec => XsaveOp.Xsavec64,
        SaveInstruction.Xsaveopt => XsaveOp.Xsaveopt64,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static byte[] EmitXgetbv()
    {
        var e = new X64Emitter();
        e.Bytes(0x89, 0xF9);                 // mov ecx, edi
        e.Xgetbv();
        e.Shift(Gpr.Rdx, left: true, 32);
        e.Or(Gpr.Rax, Gpr.Rdx);
        e.Ret();
        return e.ToArray();
    }

    private static byte[] EmitSaveLive(SaveInstruction kind)
    {
        var e = new X64Emitter();
        e.Mov(Gpr.Rax, Gpr.Rsi);
        e.Mov(Gpr.Rdx, Gpr.Rsi);
        e.Shift(Gpr.Rdx, left: false, 32);
        e.Xsave(Op(kind), Gpr.Rdi);
        e.Ret();
        return e.ToArray();
    }

    private static void AllOnes(X64Emitter e)
    {
        e.MovImm32(Gpr.Rax, 0xFFFFFFFF);
        e.MovImm32(Gpr.Rdx, 0xFFFFFFFF);
    }

    private static void LoadMask(X64Emitter e, int field)
    {
        e.Load(Gpr.Rax, Block, field);
        e.Mov(Gpr.Rdx, Gpr.Rax);
        e.Shift(Gpr.Rdx, left: false, 32);
    }

    private void StoreXgetbv1(X64Emitter e, int field)
    {
        if (!_xgetbv1)
            return;
        e.MovImm32(Gpr.Rcx, 1);
        e.Xgetbv();
        e.Shift(Gpr.Rdx, left: true, 32);
        e.Or(Gpr.Rax, Gpr.Rdx);
        e.Store(Block, field, Gpr.Rax);
    }

    /// <summary>Area ← [field]; op [Area] with EDX:EAX = [maskField] (or all ones).</summary>
    private static void XsaveOn(X64Emitter e, XsaveOp op, int areaField, int? maskField)
    {
        if (maskField is { } m)
            LoadMask(e, m);
        else
            AllOnes(e);
        e.Load(Area, Block, areaField);
        e.Xsave(op, Area);
    }

    /// <summary>rep movsb [dstField] ← [srcField], [lenField] bytes; skipped when the length is 0.</summary>
    private static void Copy(X64Emitter e, int dstField, int srcField, int lenField)
    {
        e.Load(Gpr.Rcx, Block, lenField);
        e.Test(Gpr.Rcx);
        int skip = e.JumpIf(zero: true);
        e.Load(Gpr.Rdi, Block, dstField);
        e.Load(Gpr.Rsi, Block, srcField);
        e.RepMovsb();
        e.Bind(skip);
    }

    private void Prologue(X64Emitter e)
    {
        e.Mov(Block, Gpr.Rdi);
        StoreXgetbv1(e, OffAtEntry);
        XsaveOn(e, XsaveOp.Xsave64, OffScratch, null);
    }

    private void Epilogue(X64Emitter e)
    {
        XsaveOn(e, XsaveOp.Xrstor64, OffScratch, null);
        StoreXgetbv1(e, OffAtExit);
        e.Load(Area, Block, OffExitState);
        e.Test(Area);
        int skip = e.JumpIf(zero: true);
        AllOnes(e);
        e.Xsave(XsaveOp.Xsave64, Area);
        e.Bind(skip);
        e.Ret();
    }

    private byte[] EmitProbe(SaveInstruction kind, SaveInstruction? kind2)
    {
        var e = new X64Emitter();
        Prologue(e);
        XsaveOn(e, XsaveOp.Xrstor64, OffImage, OffRestoreMask);
        StoreXgetbv1(e, OffAfterRestore);
        XsaveOn(e, Op(kind), OffOutput, OffSaveMask);
        if (kind2 is { } k2)
        {
            XsaveOn(e, XsaveOp.Xrstor64, OffOutput, OffRestoreMask2);
            StoreXgetbv1(e, OffSecondStep);
            XsaveOn(e, Op(k2), OffOutput2, OffSaveMask2);
        }
        Epilogue(e);
        return e.ToArray();
    }

    /// <summary>XRSTOR [out]; (clobber → out); XSAVEOPT [out]; out → out2; (clobber → out); XSAVEOPT [out].
    /// Both saves use the address of the last XRSTOR, the precondition of the modified optimization;
    /// overwriting the area in between (which software must not do) makes skipped components visible.</summary>
    private byte[] EmitXsaveoptTwice()
    {
        var e = new X64Emitter();
        Prologue(e);
        XsaveOn(e, XsaveOp.Xrstor64, OffOutput, OffRestoreMask);
        StoreXgetbv1(e, OffAfterRestore);
        Copy(e, OffOutput, OffClobber, OffClobberLength);
        XsaveOn(e, XsaveOp.Xsaveopt64, OffOutput, OffSaveMask);
        Copy(e, OffOutput2, OffOutput, OffCopyLength);
        Copy(e, OffOutput, OffClobber, OffClobberLength);
        XsaveOn(e, XsaveOp.Xsaveopt64, OffOutput, OffSaveMask);
        StoreXgetbv1(e, OffSecondStep);
        Epilogue(e);
        return e.ToArray();
    }

    /// <summary>kind = null: loop XRSTOR64 [image] only. Otherwise XRSTOR64 [image] once, then loop
    /// { save [out]; XRSTOR64 [out] } (withRestore) or { save [out] }.</summary>
    private byte[] EmitLoop(SaveInstruction? kind, bool withRestore)
    {
        var e = new X64Emitter();
        Prologue(e);
        if (kind is { } k)
        {
            XsaveOn(e, XsaveOp.Xrstor64, OffImage, OffRestoreMask);
            StoreXgetbv1(e, OffAfterRestore);
            e.Load(Area, Block, OffOutput);
            LoadMask(e, OffSaveMask);
        }
        else
        {
            e.Load(Area, Block, OffImage);
            LoadMask(e, OffRestoreMask);
        }
        e.Load(Counter, Block, OffCount);
        e.Test(Counter);
        int done = e.JumpIf(zero: true);
        int top = e.Position;
        if (kind is { } k2)
            e.Xsave(Op(k2), Area);
        if (withRestore)
            e.Xsave(XsaveOp.Xrstor64, Area);
        e.Dec(Counter);
        e.JumpIfNotZeroTo(top);
        e.Bind(done);
        if (kind is null)
            StoreXgetbv1(e, OffAfterRestore);
        Epilogue(e);
        return e.ToArray();
    }

    public void Dispose() => _memory.Dispose();
}
