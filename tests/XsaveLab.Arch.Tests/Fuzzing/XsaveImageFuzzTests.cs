namespace XsaveLab.Arch.Tests.Fuzzing;

/// <summary>Mutation fuzzing of the instruction model's image consumers: XRSTOR, XRSTORS and FXRSTOR on images the
/// model itself saved (XSAVE, XSAVEC, XSAVES, FXSAVE on several catalog CPUs), with the header, MXCSR, sw_reserved
/// bytes, lengths and component contents mutated. Faults are values: no exception escapes, the same image on the
/// same machine gives the same fault and registers twice, and an image XRSTOR accepts obeys the header rules of
/// SDM Vol.1 §13.8.1 (standard form) and §13.8.2 (compacted form).</summary>
public class XsaveImageFuzzTests
{
    private const int DefaultInputs = 2000;
    private const ulong Address = 0x10000; // 64-byte aligned: the alignment fault is not what is fuzzed
    private const int RegisterSeed = 77;

    private static readonly string[] Cpus = ["spr", "zen4-genoa", "skx", "tgl", "zen2-matisse"];

    internal sealed record Seed(string Cpu, string Form, byte[] Image, IReadOnlyList<(int Offset, int Size)> Components);

    private static readonly Lazy<List<Seed>> Seeds = new(MakeSeeds);

    [Fact]
    public void Xrstor_NeverThrows_IsDeterministic_AndAcceptsOnlyWhatTheHeaderRulesAllow() =>
        RunFuzz("XRSTOR", 21_001, Restore.Xrstor);

    [Fact]
    public void Xrstors_NeverThrows_IsDeterministic_AndAcceptsOnlyWhatTheHeaderRulesAllow() =>
        RunFuzz("XRSTORS", 21_002, Restore.Xrstors);

    [Fact]
    public void Fxrstor_NeverThrows_AndIsDeterministic() =>
        RunFuzz("FXRSTOR", 21_003, Restore.Fxrstor);

    /// <summary>The seeds reach past the checks: each consumer accepts some mutated images and refuses others.</summary>
    private static void RunFuzz(string target, int seed, Restore kind)
    {
        var seeds = Seeds.Value;
        int count = Fuzz.Iterations(DefaultInputs), accepted = 0;
        Fuzz.RunBytes(target, Fuzz.Seed(seed), count, rng =>
        {
            var s = seeds[rng.Next(seeds.Count)];
            // The first byte names the CPU the image is restored on; the check strips it.
            var image = Fuzz.MutateImage(rng, s.Image, s.Components);
            return [(byte)Array.IndexOf(Cpus, s.Cpu), .. image];
        }, input =>
        {
            if (Check(Cpus[input[0] % Cpus.Length], input.AsSpan(1).ToArray(), kind))
                Interlocked.Increment(ref accepted);
        });
        Assert.True(accepted >= count / 20 && accepted <= count - count / 20, $"{target}: {accepted} of {count} mutated images accepted");
    }

    internal enum Restore { Xrstor, Xrstors, Fxrstor }

    /// <summary>Restores <paramref name="image"/> on two freshly booted CPUs with the same registers and compares the
    /// outcomes; returns whether the instruction completed without a fault.</summary>
    internal static bool Check(string cpuName, byte[] image, Restore kind)
    {
        var (fault1, state1) = RunOnce(cpuName, image, kind);
        var (fault2, state2) = RunOnce(cpuName, image, kind);
        if (fault1 != fault2 || state1 != state2)
            throw new InvalidOperationException($"same image, different outcome: {fault1} / {fault2}");
        if (!fault1.IsFault && kind != Restore.Fxrstor)
        {
            var cpu = Booted(cpuName);
            if (HeaderRuleBroken(image, cpu.Xcr0, kind == Restore.Xrstors ? cpu.Xcr0 | cpu.Xss : cpu.Xcr0) is { } rule)
                throw new InvalidOperationException($"{kind} accepted an image that breaks: {rule}");
        }
        return !fault1.IsFault;
    }

    private static (XsaveFault Fault, string State) RunOnce(string cpuName, byte[] image, Restore kind)
    {
        var cpu = Booted(cpuName);
        TestCpus.Randomize(cpu, new Random(RegisterSeed), 0);
        // The image sits in memory: bytes past its end are zero, as far as any component of this CPU can reach.
        var memory = new byte[Math.Max(image.Length, 2 * cpu.Profile.Leaf(0xD, 0).Ecx + 4096)];
        image.CopyTo(memory, 0);
        var fault = kind switch
        {
            Restore.Xrstor => cpu.Xrstor(memory, Address, ~0UL),
            Restore.Xrstors => cpu.Xrstors(memory, Address, ~0UL),
            _ => cpu.Fxrstor(memory, Address),
        };
        var sb = new StringBuilder().Append($"{cpu.XinUse:x}/{cpu.Mxcsr:x}/{cpu.XfdErr:x}");
        for (ulong m = cpu.Enumerated & (cpu.Xcr0 | cpu.Xss); m != 0; m &= m - 1)
            sb.Append('/').Append(Convert.ToHexString(cpu.Read(System.Numerics.BitOperations.TrailingZeroCount(m))));
        return (fault, sb.ToString());
    }

    /// <summary>The header rules an XRSTOR/XRSTORS that completes must have found satisfied (SDM Vol.1 §13.8).</summary>
    private static string? HeaderRuleBroken(byte[] image, ulong xcr0, ulong enabled)
    {
        if (image.Length < 576)
            return null; // the rest of the header came from zeroed memory, which satisfies every rule below
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(512));
        ulong comp = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(520));
        bool reservedZero = image.AsSpan(528, 48).IndexOfAnyExcept((byte)0) < 0;
        if ((comp & 1UL << 63) == 0)
            return (bv & ~xcr0) != 0 ? "XSTATE_BV within XCR0" : comp != 0 || image.AsSpan(528, 8).IndexOfAnyExcept((byte)0) >= 0 ? "bytes 8..23 of the header zero" : null;
        ulong formed = comp & ~(1UL << 63);
        return (formed & ~enabled) != 0 ? "XCOMP_BV within the enabled features"
            : (bv & ~formed) != 0 ? "XSTATE_BV within XCOMP_BV"
            : !reservedZero ? "bytes 16..63 of the header zero" : null;
    }

    private static XsaveCpu Booted(string name) => TestCpus.Booted(CpuCatalog.Get(name));

    /// <summary>What each CPU saves with every form it has, from random registers (some components initial).</summary>
    private static List<Seed> MakeSeeds()
    {
        var seeds = new List<Seed>();
        var rng = new Random(2024);
        foreach (var name in Cpus)
        {
            for (int round = 0; round < 3; round++)
            {
                var cpu = Booted(name);
                TestCpus.Randomize(cpu, rng, round == 0 ? 0 : (ulong)rng.NextInt64());
                int size = (int)cpu.Profile.Leaf(0xD, 0).Ecx + 4096;
                var p = cpu.Profile;
                foreach (var (form, save) in new (string, Func<byte[], XsaveFault>)[]
                {
                    ("xsave", a => cpu.Xsave(a, Address, ~0UL)),
                    ("xsavec", a => p.HasXsavec ? cpu.Xsavec(a, Address, ~0UL) : XsaveFault.UD("no XSAVEC")),
                    ("xsaves", a => p.HasXsaves ? cpu.Xsaves(a, Address, ~0UL) : XsaveFault.UD("no XSAVES")),
                    ("fxsave", a => cpu.Fxsave(a, Address)),
                })
                {
                    var area = new byte[size];
                    if (save(area).IsFault)
                        continue;
                    ulong comp = BinaryPrimitives.ReadUInt64LittleEndian(area.AsSpan(520));
                    bool compacted = (comp & 1UL << 63) != 0;
                    ulong present = compacted ? comp & ~(1UL << 63) : p.SupportedXcr0;
                    int end = 576;
                    var regions = new List<(int, int)>();
                    for (ulong m = present & ~3UL & cpu.Enumerated; m != 0; m &= m - 1)
                    {
                        int i = System.Numerics.BitOperations.TrailingZeroCount(m);
                        int at = XStateGeometry.Offset(p, compacted ? comp : 0, i, compacted);
                        int len = p.Component(i)?.Size ?? 0;
                        end = Math.Max(end, at + len);
                        if (i is (int)XFeature.CetUser or (int)XFeature.CetKernel or (int)XFeature.Pkru or (int)XFeature.XtileCfg or (int)XFeature.Pasid)
                            regions.Add((at, len));
                    }
                    seeds.Add(new Seed(name, form, form == "fxsave" ? area[..512] : area[..end], regions));
                }
            }
        }
        return seeds;
    }

    /// <summary>Every CPU contributes images of the forms it has, and each one restores without a fault.</summary>
    [Fact]
    public void SavedImages_RestoreWithoutAFault()
    {
        foreach (var s in Seeds.Value)
        {
            var kind = s.Form switch { "xsaves" => Restore.Xrstors, "fxsave" => Restore.Fxrstor, _ => Restore.Xrstor };
            Assert.True(Check(s.Cpu, s.Image, kind), $"{s.Cpu} {s.Form}");
        }
        Assert.Equal(Cpus.Length, Seeds.Value.Select(s => s.Cpu).Distinct().Count());
        Assert.Contains(Seeds.Value, s => s.Form == "xsaves");
    }
}
