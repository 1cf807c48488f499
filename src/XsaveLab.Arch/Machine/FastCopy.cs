namespace XsaveLab.Arch.Machine;

/// <summary>Copying a component while finding out whether it holds anything but zeros: one pass over the
/// bytes instead of a copy and a scan, which is what lets the model's restore keep pace with a plain copy
/// while it tracks XINUSE by contents.</summary>
internal static class FastCopy
{
    /// <summary>Copies <paramref name="src"/> to the start of <paramref name="dst"/>; true when any byte is non-zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool CopyTestNonZero(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int n = src.Length;
        if (dst.Length < n)
            throw new ArgumentException("destination too short", nameof(dst));
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            var acc = Vector512<byte>.Zero;
            nuint i = 0, last = (nuint)(n - 64);
            for (; i < last; i += 64)
            {
                var v = Vector512.LoadUnsafe(ref s, i);
                v.StoreUnsafe(ref d, i);
                acc |= v;
            }
            var t = Vector512.LoadUnsafe(ref s, last);
            t.StoreUnsafe(ref d, last);
            return (acc | t) != Vector512<byte>.Zero;
        }
        if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            var acc = Vector256<byte>.Zero;
            nuint i = 0, last = (nuint)(n - 32);
            for (; i < last; i += 32)
            {
                var v = Vector256.LoadUnsafe(ref s, i);
                v.StoreUnsafe(ref d, i);
                acc |= v;
            }
            var t = Vector256.LoadUnsafe(ref s, last);
            t.StoreUnsafe(ref d, last);
            return (acc | t) != Vector256<byte>.Zero;
        }
        src.CopyTo(dst);
        return src.IndexOfAnyExcept((byte)0) >= 0;
    }
}
