using XsaveLab.Host.Native;
using static XsaveLab.Host.Tests.Native.NativeTestImages;

namespace XsaveLab.Host.Tests.Native;

/// <summary>Seeded random images, restore masks, save masks, fills and instructions: the hardware's output
/// must equal <see cref="SaveOracle"/> byte for byte, and XGETBV(1) after the XRSTOR must follow XSTATE_BV.</summary>
public class NativeRandomStateTests
{
    private const int Iterations = 3000;

    [SkippableFact]
    public void RandomStatesMatchTheOracleByteForByte()
    {
        Skip.IfNot(NativeXsave.IsSupported, NativeXsave.UnsupportedReason);
        using var x = new NativeXsave();
        var cpu = HostCpuidProfile.Read();
        var kinds = Enum.GetValues<NativeSaveKind>().Where(x.Supports).ToArray();
        var live = new byte[x.AreaSize];
        var output = new byte[x.AreaSize];
        const int baseSeed = 20261121;
        for (int n = 0; n < Iterations; n++)
        {
            int seed = baseSeed + n;
            var rng = new Random(seed);
            x.SaveLive(NativeSaveKind.Xsave, x.Xcr0, live);
            var image = SaveOracle.RandomImage(x, cpu, live, rng);
            var kind = kinds[rng.Next(kinds.Length)];
            ulong restoreMask = rng.Next(4) == 0 ? x.RestoreMaskWithoutPkru : (ulong)rng.NextInt64() & x.RestoreMaskWithoutPkru;
            ulong saveMask = rng.Next(4) == 0 ? ~0UL : (ulong)rng.NextInt64();
            rng.NextBytes(output);
            var fill = output.ToArray();

            var r = x.Probe(kind, image, restoreMask, saveMask, output);

            string ctx = $"seed {seed}: {kind} XSTATE_BV=0x{XstateBv(image):X} restore=0x{restoreMask & x.Xcr0:X} rfbm=0x{saveMask & x.Xcr0:X} MXCSR=0x{Mxcsr(image):X}";
            var entry = x.EntryState.ToArray();
            ulong inUse = SaveOracle.InUseAfterRestore(x, entry, image, restoreMask);
            var state = SaveOracle.StateAfterRestore(x, cpu, entry, image, restoreMask);
            if (x.HasXgetbv1)
            {
                ulong reported = SaveOracle.Xgetbv1(x, state, inUse);
                Assert.True(r.Xgetbv1AfterRestore == reported,
                    $"{ctx}: XGETBV(1) after XRSTOR 0x{r.Xgetbv1AfterRestore:X}, expected 0x{reported:X}");
                Assert.True(r.Xgetbv1AtEntry == r.Xgetbv1AtExit, $"{ctx}: XINUSE at exit 0x{r.Xgetbv1AtExit:X} != entry 0x{r.Xgetbv1AtEntry:X}");
            }
            var expected = SaveOracle.Save(x, cpu, state, inUse, saveMask, kind, fill);
            ByteAssert.Equal(expected, output, $"{ctx} XGETBV1=0x{r.Xgetbv1AfterRestore:X} out XSTATE_BV=0x{XstateBv(output):X} XCOMP_BV=0x{XcompBv(output):X} expected XSTATE_BV=0x{XstateBv(expected):X} inUse=0x{inUse:X}");
        }
    }
}
