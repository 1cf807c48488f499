using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>XSAVEOPT to the address of the most recent XRSTOR may skip components not modified since
/// (SDM Vol.1 §13.6 "modified optimization"). Whether it does is the processor's choice, so the tests check
/// the allowed outcomes per component and log which one this processor chose.</summary>
public class NativeXsaveoptTests(ITestOutputHelper log)
{
    [SkippableFact]
    public void ModifiedOptimizationSkipsWholeComponentsOrNone()
    {
        using var x = NativeHarness.Open(h => h.HasXsaveopt, "XSAVEOPT is not enumerated");
        var cpu = HostCpuidProfile.Read();
        var image = Known(x, cpu, 21);
        var clobber = Filled(x.AreaSize);
        var first = new byte[x.AreaSize];
        var second = new byte[x.AreaSize];
        var r = x.ProbeXsaveoptTwice(image, x.Xcr0, x.Xcr0, clobber, first, second);
        foreach (var (name, o) in new[] { ("first", first), ("second", second) })
        {
            var skipped = new List<int>();
            foreach (int i in Bits(x.Xcr0))
            {
                bool regs = true, clob = true;
                foreach (var (off, len) in StandardRanges(cpu, i))
                {
                    regs &= o.AsSpan(off, len).SequenceEqual(image.AsSpan(off, len));
                    clob &= o.AsSpan(off, len).IndexOfAnyExcept(Fill) < 0;
                }
                Assert.True(regs || clob, $"{name} XSAVEOPT: component {i} is neither the register value nor the untouched clobber");
                if (!regs)
                    skipped.Add(i);
            }
            // MXCSR is written whatever the optimizations decide; XSTATE_BV follows XINUSE for RFBM.
            Assert.Equal(0x1F80u, Mxcsr(o));
            ulong inUse = x.HasXgetbv1 ? r.Xgetbv1AfterRestore : x.Xcr0;
            Assert.Equal($"0x{(XstateBv(clobber) & ~x.Xcr0) | (inUse & x.Xcr0):X}", $"0x{XstateBv(o):X}");
            log.WriteLine($"{name} XSAVEOPT after XRSTOR from the same address, area overwritten in between: " +
                $"skipped components [{string.Join(",", skipped)}] of [{string.Join(",", Bits(x.Xcr0))}]; " +
                $"MXCSR_MASK field 0x{BinaryPrimitives.ReadUInt32LittleEndian(o.AsSpan(28)):X8}");
        }
    }

    [SkippableFact]
    public void WithoutOverwritingTheAreaXsaveoptTwiceReproducesTheImage()
    {
        using var x = NativeHarness.Open(h => h.HasXsaveopt, "XSAVEOPT is not enumerated");
        var cpu = HostCpuidProfile.Read();
        var image = Known(x, cpu, 22);
        var first = new byte[x.AreaSize];
        var second = new byte[x.AreaSize];
        x.ProbeXsaveoptTwice(image, x.Xcr0, x.Xcr0, [], first, second);
        foreach (var o in new[] { first, second })
            foreach (int i in Bits(x.Xcr0))
                foreach (var (off, len) in StandardRanges(cpu, i))
                    ByteAssert.Equal(image.AsSpan(off, len), o.AsSpan(off, len), $"component {i}");
    }
}
