using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>The usage example of <see cref="NativeXsave"/>'s documentation, as written there.</summary>
public class NativeUsageExampleTests
{
    [SkippableFact]
    public void DocumentedExampleWorks()
    {
        Skip.IfNot(NativeXsave.IsSupported, NativeXsave.UnsupportedReason);
        using var cpu = new NativeXsave();
        var image = new byte[cpu.AreaSize];
        cpu.SaveLive(SaveInstruction.Xsave, cpu.Xcr0, image);
        image.AsSpan(160, 16).Fill(0x5A);
        image[512] |= 2;
        var output = new byte[cpu.AreaSize];
        output.AsSpan().Fill(0xCC);
        Skip.IfNot(cpu.HasXsavec, "XSAVEC is not enumerated");
        var r = cpu.Probe(SaveInstruction.Xsavec, image, cpu.Xcr0, cpu.Xcr0, output);
        long t0 = Stopwatch.GetTimestamp();
        cpu.RunPairs(SaveInstruction.Xsavec, cpu.Xcr0, 1000, image);
        Assert.True(Stopwatch.GetTimestamp() > t0);

        Assert.Equal(2UL, XstateBv(output) & 2);
        Assert.True(output.AsSpan(160, 16).IndexOfAnyExcept((byte)0x5A) < 0);
        if (cpu.HasXgetbv1)
            Assert.Equal(2UL, r.Xgetbv1AfterRestore & 2);
    }
}
