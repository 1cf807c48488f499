namespace XsaveLab.Kernel.Uabi;

/// <summary>The i387 FSAVE environment (<c>struct user_i387_ia32_struct</c>, 108 bytes: cwd, swd, twd, fip, fcs,
/// foo, fos, st_space[20]) and its conversions to and from the FXSAVE image (arch/x86/kernel/fpu/regset.c
/// <c>__convert_from_fxsr()</c>, <c>convert_to_fxsr()</c>, <c>twd_fxsr_to_i387()</c>, <c>twd_i387_to_fxsr()</c>,
/// CONFIG_X86_64 variants).</summary>
public static class FxsrConversions
{
    public const int EnvSize = 108;

    /// <summary>FP_EXP_TAG_* of an x87 register as the full tag word encodes it.</summary>
    private const uint TagValid = 0, TagZero = 1, TagSpecial = 2, TagEmpty = 3;

    /// <summary><c>twd_fxsr_to_i387()</c>: rebuilds the full 2-bit-per-register tag word from the abridged one
    /// and the register contents (exponent 0x7FFF ⇒ special; exponent 0 ⇒ zero or special; else the integer
    /// bit decides valid/special).</summary>
    public static uint TwdFxsrToI387(ReadOnlySpan<byte> fxsave)
    {
        uint tos = (uint)(BinaryPrimitives.ReadUInt16LittleEndian(fxsave[2..]) >> 11) & 7;
        uint twd = BinaryPrimitives.ReadUInt16LittleEndian(fxsave[4..]);
        uint ret = 0xFFFF0000u;
        for (int i = 0; i < 8; i++, twd >>= 1)
        {
            uint tag;
            if ((twd & 1) != 0)
            {
                var st = fxsave.Slice(XsaveOffsets.StSpace + (int)((i - tos) & 7) * 16, 10);
                ushort exponent = BinaryPrimitives.ReadUInt16LittleEndian(st[8..]);
                ushort sig3 = BinaryPrimitives.ReadUInt16LittleEndian(st[6..]);
                tag = (exponent & 0x7FFF) switch
                {
                    0x7FFF => TagSpecial,
                    0 => st[..8].IndexOfAnyExcept((byte)0) < 0 ? TagZero : TagSpecial,
                    _ => (sig3 & 0x8000) != 0 ? TagValid : TagSpecial,
                };
            }
            else
            {
                tag = TagEmpty;
            }
            ret |= tag << (2 * i);
        }
        return ret;
    }

    /// <summary><c>twd_i387_to_fxsr()</c>: each 2-bit tag becomes one bit, 1 unless the register is empty (3).</summary>
    public static ushort TwdI387ToFxsr(uint twd)
    {
        uint tmp = ~twd;
        tmp = (tmp | (tmp >> 1)) & 0x5555;
        tmp = (tmp | (tmp >> 1)) & 0x3333;
        tmp = (tmp | (tmp >> 2)) & 0x0F0F;
        tmp = (tmp | (tmp >> 4)) & 0x00FF;
        return (ushort)tmp;
    }

    /// <summary><c>__convert_from_fxsr()</c> on x86-64: cwd/swd with 0xFFFF in the upper half, the full tag word,
    /// fip/foo = the low halves of rip/rdp, fcs = the task's user CS, fos = its DS | 0xFFFF0000, and the eight
    /// 10-byte registers.</summary>
    public static void ConvertFromFxsr(ReadOnlySpan<byte> fxsave, Span<byte> env, ushort userCs, ushort userDs)
    {
        env[..EnvSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(env, BinaryPrimitives.ReadUInt16LittleEndian(fxsave) | 0xFFFF0000u);
        BinaryPrimitives.WriteUInt32LittleEndian(env[4..], BinaryPrimitives.ReadUInt16LittleEndian(fxsave[2..]) | 0xFFFF0000u);
        BinaryPrimitives.WriteUInt32LittleEndian(env[8..], TwdFxsrToI387(fxsave));
        BinaryPrimitives.WriteUInt32LittleEndian(env[12..], (uint)BinaryPrimitives.ReadUInt64LittleEndian(fxsave[8..]));
        BinaryPrimitives.WriteUInt32LittleEndian(env[16..], userCs);
        BinaryPrimitives.WriteUInt32LittleEndian(env[20..], (uint)BinaryPrimitives.ReadUInt64LittleEndian(fxsave[16..]));
        BinaryPrimitives.WriteUInt32LittleEndian(env[24..], userDs | 0xFFFF0000u);
        for (int i = 0; i < 8; i++)
            fxsave.Slice(XsaveOffsets.StSpace + i * 16, 10).CopyTo(env[(28 + i * 10)..]);
    }

    /// <summary><c>convert_to_fxsr()</c> on x86-64: cwd, swd, the abridged tag, fop from fcs's upper half,
    /// rip/rdp from fip/foo (zero-extended), and the 10-byte registers into their 16-byte slots (the upper six
    /// bytes of each slot are left as they are). CS/DS are ignored.</summary>
    public static void ConvertToFxsr(Span<byte> fxsave, ReadOnlySpan<byte> env)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(fxsave, (ushort)BinaryPrimitives.ReadUInt32LittleEndian(env));
        BinaryPrimitives.WriteUInt16LittleEndian(fxsave[2..], (ushort)BinaryPrimitives.ReadUInt32LittleEndian(env[4..]));
        BinaryPrimitives.WriteUInt16LittleEndian(fxsave[4..], TwdI387ToFxsr(BinaryPrimitives.ReadUInt32LittleEndian(env[8..])));
        BinaryPrimitives.WriteUInt16LittleEndian(fxsave[6..], (ushort)(BinaryPrimitives.ReadUInt32LittleEndian(env[16..]) >> 16));
        BinaryPrimitives.WriteUInt64LittleEndian(fxsave[8..], BinaryPrimitives.ReadUInt32LittleEndian(env[12..]));
        BinaryPrimitives.WriteUInt64LittleEndian(fxsave[16..], BinaryPrimitives.ReadUInt32LittleEndian(env[20..]));
        for (int i = 0; i < 8; i++)
            env.Slice(28 + i * 10, 10).CopyTo(fxsave[(XsaveOffsets.StSpace + i * 16)..]);
    }
}
