namespace XsaveLab.Host.Native;

/// <summary>General-purpose registers by hardware number (REX extends 8..15).</summary>
internal enum Gpr
{
    Rax = 0, Rcx = 1, Rdx = 2, Rbx = 3, Rsp = 4, Rbp = 5, Rsi = 6, Rdi = 7,
    R8 = 8, R9 = 9, R10 = 10, R11 = 11,
}

/// <summary>The XSAVE-family memory forms the stubs use, as (second opcode byte, ModRM.reg extension).</summary>
/// <remarks>SDM Vol.2: XSAVE 0F AE /4, XRSTOR 0F AE /5, XSAVEOPT 0F AE /6, XSAVEC 0F C7 /4; REX.W selects
/// the 64-bit forms (XSAVE64 …), which store the 64-bit FIP/FDP.</remarks>
internal enum XsaveOp
{
    Xsave64 = 0xAE04,
    Xrstor64 = 0xAE05,
    Xsaveopt64 = 0xAE06,
    Xsavec64 = 0xC704,
}

/// <summary>Just enough of an x86-64 encoder for the XSAVE stubs; runs only while a stub set is built.</summary>
internal sealed class X64Emitter
{
    private readonly List<byte> _code = [];

    public int Position => _code.Count;

    public byte[] ToArray() => [.. _code];

    public void Bytes(params ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            _code.Add(b);
    }

    private void Rex(int reg, int rm, bool w = true)
    {
        int rex = 0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1);
        if (rex != 0x40)
            _code.Add((byte)rex);
    }

    private void ModRm(int mod, int reg, int rm) => _code.Add((byte)(mod << 6 | (reg & 7) << 3 | (rm & 7)));

    private static void CheckPlainBase(Gpr b)
    {
        // rm=100 needs a SIB byte and mod=00 rm=101 is RIP-relative: keep the encoder simple by refusing them.
        if (((int)b & 7) is 4 or 5)
            throw new ArgumentException($"{b} cannot be a plain base register here.", nameof(b));
    }

    private void MemOperand(int reg, Gpr @base, int disp)
    {
        if (disp is >= -128 and <= 127)
        {
            ModRm(1, reg, (int)@base);
            _code.Add(unchecked((byte)(sbyte)disp));
        }
        else
        {
            ModRm(2, reg, (int)@base);
            for (int i = 0; i < 4; i++)
                _code.Add((byte)(disp >> (8 * i)));
        }
    }

    /// <summary>mov dst, [base + disp]</summary>
    public void Load(Gpr dst, Gpr @base, int disp)
    {
        CheckPlainBase(@base);
        Rex((int)dst, (int)@base);
        _code.Add(0x8B);
        MemOperand((int)dst, @base, disp);
    }

    /// <summary>mov [base + disp], src</summary>
    public void Store(Gpr @base, int disp, Gpr src)
    {
        CheckPlainBase(@base);
        Rex((int)src, (int)@base);
        _code.Add(0x89);
        MemOperand((int)src, @base, disp);
    }

    /// <summary>mov dst, src (64-bit)</summary>
    public void Mov(Gpr dst, Gpr src)
    {
        Rex((int)src, (int)dst);
        _code.Add(0x89);
        ModRm(3, (int)src, (int)dst);
    }

    /// <summary>mov r32, imm32 (zero-extends into the 64-bit register)</summary>
    public void MovImm32(Gpr dst, uint imm)
    {
        Rex(0, (int)dst, w: false);
        _code.Add((byte)(0xB8 + ((int)dst & 7)));
        _code.Add((byte)imm);
        _code.Add((byte)(imm >> 8));
        _code.Add((byte)(imm >> 16));
        _code.Add((byte)(imm >> 24));
    }

    /// <summary>shl/shr reg, imm8</summary>
    public void Shift(Gpr reg, bool left, byte count)
    {
        Rex(0, (int)reg);
        _code.Add(0xC1);
        ModRm(3, left ? 4 : 5, (int)reg);
        _code.Add(count);
    }

    /// <summary>or dst, src (64-bit)</summary>
    public void Or(Gpr dst, Gpr src)
    {
        Rex((int)src, (int)dst);
        _code.Add(0x09);
        ModRm(3, (int)src, (int)dst);
    }

    /// <summary>test reg, reg (64-bit)</summary>
    public void Test(Gpr reg)
    {
        Rex((int)reg, (int)reg);
        _code.Add(0x85);
        ModRm(3, (int)reg, (int)reg);
    }

    /// <summary>dec reg (64-bit)</summary>
    public void Dec(Gpr reg)
    {
        Rex(0, (int)reg);
        _code.Add(0xFF);
        ModRm(3, 1, (int)reg);
    }

    /// <summary>One XSAVE-family instruction on [base].</summary>
    public void Xsave(XsaveOp op, Gpr @base)
    {
        CheckPlainBase(@base);
        Rex(0, (int)@base);
        _code.Add(0x0F);
        _code.Add((byte)((int)op >> 8));
        ModRm(0, (int)op & 0xFF, (int)@base);
    }

    /// <summary>xgetbv (ECX selects the XCR; result in EDX:EAX)</summary>
    public void Xgetbv() => Bytes(0x0F, 0x01, 0xD0);

    /// <summary>rep movsb (RDI ← RSI, RCX bytes; the ABI guarantees DF = 0)</summary>
    public void RepMovsb() => Bytes(0xF3, 0xA4);

    public void Ret() => _code.Add(0xC3);

    /// <summary>jz/jnz rel32 to a label bound later; returns the patch position.</summary>
    public int JumpIf(bool zero)
    {
        Bytes(0x0F, zero ? (byte)0x84 : (byte)0x85, 0, 0, 0, 0);
        return _code.Count - 4;
    }

    /// <summary>jnz rel32 back to an already-bound position.</summary>
    public void JumpIfNotZeroTo(int target)
    {
        int patch = JumpIf(zero: false);
        Patch(patch, target);
    }

    /// <summary>Points the rel32 at <paramref name="patch"/> to the current position.</summary>
    public void Bind(int patch) => Patch(patch, _code.Count);

    private void Patch(int patch, int target)
    {
        int rel = target - (patch + 4);
        for (int i = 0; i < 4; i++)
            _code[patch + i] = (byte)(rel >> (8 * i));
    }
}
