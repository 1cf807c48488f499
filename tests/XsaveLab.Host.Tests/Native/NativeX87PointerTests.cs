using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>The x87 last-instruction pointers (FOP, FIP, FDP). With an unmasked exception pending
/// (FSW.ES = 1) every processor must carry them through XRSTOR64/XSAVE64; without it AMD processors may
/// not (Linux X86_BUG_FXSAVE_LEAK), so that case is only logged.</summary>
public class NativeX87PointerTests(ITestOutputHelper log)
{
    private static byte[] Image(NativeXsave x, ushort fcw, ushort fsw)
    {
        var image = Known(x, HostCpuidProfile.Read(), 61);
        BinaryPrimitives.WriteUInt16LittleEndian(image, fcw);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(2), fsw);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(6), 0x0456);                  // FOP (11 bits)
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(8), 0x0000_7654_3210_ABCE);   // FIP, canonical
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(16), 0xFFFF_8000_1234_5678);  // FDP, canonical
        return image;
    }

    [SkippableTheory]
    [MemberData(nameof(NativeHarness.SaveInstructions), MemberType = typeof(NativeHarness))]
    public void PointersRoundTripWhileAnExceptionIsPending(SaveInstruction kind)
    {
        using var x = NativeHarness.Open(kind);
        var image = Image(x, 0x037E, 0x0001); // IE flagged and unmasked → ES
        var output = Filled(x.AreaSize);
        x.Probe(kind, image, x.Xcr0, 1, output);
        Assert.Equal(0x8081, BinaryPrimitives.ReadUInt16LittleEndian(output.AsSpan(2))); // ES and B recomputed
        ByteAssert.Equal(image.AsSpan(6, 18), output.AsSpan(6, 18), $"{kind}: FOP/FIP/FDP");
    }

    [SkippableFact]
    public void PointersWithoutAPendingExceptionAreLogged()
    {
        using var x = NativeHarness.Open();
        var (_, ebx, _, _) = X86Base.CpuId(unchecked((int)0x80000008), 0);
        var image = Image(x, 0x037F, 0x0001); // IE flagged but masked: ES = 0
        var output = Filled(x.AreaSize);
        x.Probe(SaveInstruction.Xsave, image, x.Xcr0, 1, output);
        bool kept = output.AsSpan(6, 18).SequenceEqual(image.AsSpan(6, 18));
        log.WriteLine($"XSaveErPtr (CPUID 0x80000008 EBX[2]) = {(ebx >> 2) & 1}; with FSW.ES = 0 XSAVE64 stored FOP/FIP/FDP " +
            $"{Convert.ToHexString(output.AsSpan(6, 18))} ({(kept ? "as restored" : "not as restored")})");
        Assert.True(kept || output.AsSpan(6, 18).IndexOfAnyExcept(Fill) >= 0, "the pointer fields must be written either way");
    }
}
