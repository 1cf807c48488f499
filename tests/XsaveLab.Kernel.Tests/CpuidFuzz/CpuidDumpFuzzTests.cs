namespace XsaveLab.Kernel.Tests.CpuidFuzz;

/// <summary>Mutation fuzzing of both CPUID dump formats through everything that consumes a profile: read and
/// validate, sanity (with the mask inference), layout views, the instruction model, the kernel's boot and a
/// running <see cref="LinuxKernel"/>. A dump may be refused (one-line <see cref="CpuProfileFormatException"/>) or
/// answered; any other exception, a hang or an allocation blow-up is a failure.</summary>
public class CpuidDumpFuzzTests
{
    private const int DefaultInputs = 2000;

    [Fact]
    public void CpuidRawDumps_NeverCrashHangOrBlowUp()
    {
        var seeds = CatalogSeeds(instLat: false);
        RunAndCountAnswers("cpuid -r dump", 11_001, seeds);
    }

    [Fact]
    public void InstLatx64Dumps_NeverCrashHangOrBlowUp()
    {
        var seeds = CatalogSeeds(instLat: true).Concat(SharedDumpSeeds()).ToList();
        RunAndCountAnswers("InstLatx64 dump", 11_002, seeds);
    }

    /// <summary>Fuzzes from <paramref name="seeds"/> and checks that the mutations reach the consumers: a fuzz
    /// whose inputs were all refused by the reader would test nothing past it.</summary>
    private static void RunAndCountAnswers(string target, int seed, List<string> seeds)
    {
        int count = Fuzz.Iterations(DefaultInputs), answered = 0;
        Fuzz.Run(target, Fuzz.Seed(seed), count, rng => Fuzz.MutateLines(rng, seeds[rng.Next(seeds.Count)]), text =>
        {
            if (CpuidPipeline.Run(text, out _))
                Interlocked.Increment(ref answered);
        });
        Assert.True(answered >= count / 10, $"only {answered} of {count} mutated dumps got past the reader");
    }

    private const string RegressionFolder = "CpuidFuzz/Regressions";

    public static TheoryData<string> Regressions() => FuzzRegressions.Files(RegressionFolder, "*.txt");

    /// <summary>Inputs that once crashed, hung or blew up a consumer: each must now be refused or answered.</summary>
    [Theory]
    [MemberData(nameof(Regressions))]
    public void OnceFailingInputs_AreRefusedOrAnswered(string file)
    {
        string text = FuzzRegressions.Text(RegressionFolder, file);
        Assert.Null(Fuzz.Failure(text, CpuidPipeline.Run, Fuzz.Limits.Default));
    }

    /// <summary>The pipeline really runs the consumers: every catalog CPU passes it unrefused.</summary>
    [Fact]
    public void CatalogCpus_GoThroughThePipelineUnrefused()
    {
        foreach (var text in CatalogSeeds(instLat: false).Concat(CatalogSeeds(instLat: true)))
            Assert.True(CpuidPipeline.Run(text, out string? refusal), refusal);
    }

    /// <summary>The catalog's profiles in <c>cpuid -r</c> form, or rewritten as InstLatx64 dumps (with the
    /// per-CPU header, a prose line and a second CPU, as the real files have).</summary>
    internal static List<string> CatalogSeeds(bool instLat) =>
        [.. CpuCatalog.Entries.Select(e => instLat ? ToInstLat(e.Profile) : CpuidTextWriter.Write(e.Profile))];

    private static string ToInstLat(CpuProfile p)
    {
        var sb = new StringBuilder("------[ CPUID Registers / Logical CPU #0 ]------\n\nCPUID Manufacturer: fuzz\n");
        foreach (var l in p.Leaves)
            sb.Append(CultureInfo.InvariantCulture, $"CPUID {l.Leaf:X8}: {l.Eax:X8}-{l.Ebx:X8}-{l.Ecx:X8}-{l.Edx:X8}")
              .Append(l.Leaf is 7 or 0xD or 0x1D or 0x1E ? $" [SL {l.Subleaf:X2}]" : "").Append('\n');
        sb.Append("\n------[ CPUID Registers / Logical CPU #1 ]------\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"CPUID 00000000: {p.Leaf(0).Eax:X8}-{p.Leaf(0).Ebx:X8}-{p.Leaf(0).Ecx:X8}-{p.Leaf(0).Edx:X8}\n");
        return sb.ToString();
    }

    /// <summary>The first CPU block of each shared real dump, when the shared dumps are present.</summary>
    private static IEnumerable<string> SharedDumpSeeds()
    {
        if (RepoPaths.CpuidDumps is not { } dir)
            yield break;
        foreach (var f in Directory.GetFiles(dir, "*.txt").Order(StringComparer.Ordinal))
        {
            var lines = File.ReadLines(f).Take(400).ToList();
            int second = lines.FindIndex(1, l => l.Contains("Logical CPU #1", StringComparison.Ordinal));
            yield return string.Join('\n', second > 0 ? lines.Take(second + 3) : lines);
        }
    }
}

/// <summary>What the commands do with a dump, as one check for the fuzz tests.</summary>
internal static class CpuidPipeline
{
    public static void Run(string text) => Run(text, out _);

    /// <summary>Reads <paramref name="text"/> and, unless it is refused, runs every consumer on it. Returns false
    /// with the one-line reason when the dump is refused as bad input.</summary>
    public static bool Run(string text, out string? refusal)
    {
        CpuProfile p;
        try
        {
            p = CpuidTextReader.Parse(text, "fuzz.txt");
        }
        catch (CpuProfileFormatException e)
        {
            refusal = e.Message;
            CheckRefusal(e);
            return false;
        }

        _ = ProfileSanity.Check(p);
        _ = ReportedMasks.Infer(p);
        _ = LayoutView.Create(p);
        if (p.HasXsave)
        {
            _ = XStateLayout.Standard(p, p.SupportedXcr0);
            if (p.HasXsavec)
                _ = XStateLayout.CompactedForm(p, p.SupportedXcr0 | p.SupportedXss);
        }
        var cpu = new XsaveCpu(p);
        for (ulong m = cpu.Enumerated; m != 0; m &= m - 1)
            _ = cpu.Read(System.Numerics.BitOperations.TrailingZeroCount(m)).Length;

        foreach (var variant in new[] { KernelVariants.V6_17, KernelVariants.V6_15 })
        {
            var sys = FpuSystem.Boot(p, variant);
            LinuxKernel k;
            try
            {
                k = new LinuxKernel(sys, 1);
            }
            catch (CpuProfileFormatException e)
            {
                refusal = e.Message;
                CheckRefusal(e);
                return false;
            }
            RunTasks(k);
        }
        refusal = null;
        return true;
    }

    /// <summary>Two processes on one CPU: each touches every user component the kernel enabled, then they switch.</summary>
    private static void RunTasks(LinuxKernel k)
    {
        var a = k.SpawnProcess("a");
        var b = k.SpawnProcess("b");
        k.Schedule(0, a);
        _ = k.ArchPrctlRequest(a, 18);
        var cpu = k.Cpus[0].Cpu;
        for (ulong m = k.System.Xcr0 & cpu.Enumerated & ~1UL; m != 0; m &= m - 1)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(m);
            if (i == 0)
                continue;
            var data = new byte[cpu.Read(i).Length];
            Array.Fill(data, (byte)0x5A);
            _ = k.UseComponent(a, i, data);
        }
        k.Deschedule(0);
        k.Schedule(0, b);
        k.Deschedule(0);
        k.Schedule(0, a);
        k.Deschedule(0);
    }

    /// <summary>A refusal is one short line: no newline or control character copied from the input.</summary>
    private static void CheckRefusal(CpuProfileFormatException e)
    {
        if (e.Message.Any(char.IsControl) || e.Message.Length > 600)
            throw new InvalidOperationException($"refusal message is not one short line ({e.Message.Length} chars): {e.Message[..Math.Min(200, e.Message.Length)]}");
    }
}
