namespace XsaveLab.Kernel.Uabi;

/// <summary>Ways to break an NT_X86_XSTATE SETREGSET buffer, one per kernel validation rule.</summary>
public enum RegsetMalformation
{
    /// <summary>XCOMP_BV = bit 63 | features: compacted format (validate_user_xstate_header ⇒ -EINVAL).</summary>
    XcompBvCompacted,

    /// <summary>XSTATE_BV has CET_USER (bit 11), a supervisor feature (⇒ -EINVAL).</summary>
    SupervisorBitInXstateBv,

    /// <summary>XSTATE_BV has the lowest user-supported feature the machine lacks (⇒ -EINVAL).</summary>
    UnsupportedBitInXstateBv,

    /// <summary>Header byte 530 (reserved) non-zero (⇒ -EINVAL).</summary>
    ReservedHeaderByte,

    /// <summary>MXCSR = 0xFFFFFFFF with SSE present (reserved MXCSR bits ⇒ -EINVAL).</summary>
    MxcsrReservedBits,

    /// <summary>iov_len 512: count ≠ fpu_user_cfg.max_size (⇒ -EFAULT).</summary>
    ShortBuffer512,

    /// <summary>iov_len max_size − 8 (⇒ -EFAULT).</summary>
    OneQwordShort,

    /// <summary>iov_len max_size + 4: not a multiple of regset->size 8 (ptrace_regset ⇒ -EINVAL).</summary>
    NotMultipleOf8,
}

public static class RegsetMalformations
{
    /// <summary>The malformed buffer (its length is the iov_len) built from a valid image, or null when the
    /// machine cannot express the malformation (no missing user feature).</summary>
    public static byte[]? Build(UabiConfig cfg, ReadOnlySpan<byte> valid, RegsetMalformation m)
    {
        var b = valid.ToArray();
        switch (m)
        {
            case RegsetMalformation.XcompBvCompacted:
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(XsaveOffsets.XcompBv), XFeatureMasks.CompactedFormat | cfg.UserMaxFeatures);
                return b;
            case RegsetMalformation.SupervisorBitInXstateBv:
                SetBv(b, XFeatureMasks.CetUser);
                return b;
            case RegsetMalformation.UnsupportedBitInXstateBv:
                ulong missing = ~cfg.UserMaxFeatures & XFeatureMasks.UserSupported;
                if (missing == 0)
                    return null;
                SetBv(b, missing & (ulong)-(long)missing);
                return b;
            case RegsetMalformation.ReservedHeaderByte:
                b[XsaveOffsets.HeaderReserved + 2] = 1;
                return b;
            case RegsetMalformation.MxcsrReservedBits:
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(XsaveOffsets.Mxcsr), 0xFFFFFFFF);
                SetBv(b, XFeatureMasks.Sse);
                return b;
            case RegsetMalformation.ShortBuffer512:
                return b[..XsaveOffsets.FxsaveSize];
            case RegsetMalformation.OneQwordShort:
                return b[..^8];
            case RegsetMalformation.NotMultipleOf8:
                return [.. b, 0, 0, 0, 0];
        }
        throw new ArgumentOutOfRangeException(nameof(m));
    }

    private static void SetBv(byte[] b, ulong bits) =>
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(XsaveOffsets.XstateBv), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(XsaveOffsets.XstateBv)) | bits);
}
