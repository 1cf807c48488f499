using XsaveLab.Kernel.Image;

namespace XsaveLab.Kernel.Tests.Image;

/// <summary><see cref="ImageConverter"/> over every ordered pair of catalog CPUs with XSAVE. Sources are the
/// kernel model's PTRACE_GETREGSET NT_X86_XSTATE images of a task with every user component in use (random values,
/// seeded). Where a component lands is checked against <see cref="XStateLayout"/> (CPUID leaf 0xD), and the result
/// is decoded again with the target CPU.</summary>
public sealed class ImageConvertTests(ITestOutputHelper output)
{
    private const int Seed = 12_001;

    private static readonly Lazy<Dictionary<string, byte[]>> Sources = new(() =>
        CpuCatalog.All.Where(c => c.HasXsave).ToDictionary(c => c.Name, c =>
        {
            var cfg = UabiConfig.FromSystem(FpuSystem.Boot(c));
            var task = UabiRandom.Task(cfg, new Random(Seed + CpuCatalog.Names.ToList().IndexOf(c.Name)), ~0UL);
            return PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        }));

    public static TheoryData<string> XsaveCpus() => [.. CpuCatalog.All.Where(c => c.HasXsave).Select(c => c.Name)];

    private static XsaveImage Open(string cpu) =>
        XsaveImageFile.Open(Sources.Value[cpu].ToArray(), new XsaveImageOptions(ImageKind.Ptrace, CpuCatalog.Get(cpu)), cpu).Threads[0];

    [SkippableTheory]
    [MemberData(nameof(XsaveCpus))]
    public void StandardToCompactedToStandard_IsByteIdenticalForEveryComponentInUse(string cpu)
    {
        var p = CpuCatalog.Get(cpu);
        Skip.IfNot(p.HasXsavec, $"{cpu} has no XSAVEC: no compacted format");
        var source = Open(cpu);
        var compacted = ImageConverter.Convert(source, p, compacted: true);
        Assert.False(compacted.LostState);
        Assert.NotEqual(0UL, compacted.Image.XcompBv & XFeatureMasks.CompactedFormat);
        var back = ImageConverter.Convert(compacted.Image, p, compacted: false);
        Assert.Equal(source.Bytes.Length, back.Image.Bytes.Length);
        Assert.Equal(source.Bytes.AsSpan(0, XsaveOffsets.ExtendedStart).ToArray(), back.Image.Bytes.AsSpan(0, XsaveOffsets.ExtendedStart).ToArray());
        int inUse = 0;
        foreach (var c in source.Layout.Components.Where(c => source.IsInUse(c.Number)))
        {
            Assert.Equal(source.Locate(c.Number).ToArray(), back.Image.Locate(c.Number).ToArray());
            inUse++;
        }
        Assert.True(inUse >= 2, $"{cpu}: only {inUse} components in use");
    }

    [Fact]
    public void EveryOrderedPair_PutsEveryValueWhereTheTargetLayoutSays()
    {
        var cpus = CpuCatalog.All.Where(c => c.HasXsave).ToList();
        int pairs = 0, registers = 0, dropped = 0;
        foreach (var a in cpus)
            foreach (var b in cpus)
                foreach (bool compacted in b.HasXsavec ? [false, true] : new[] { false })
                {
                    var source = Open(a.Name);
                    var conv = ImageConverter.Convert(source, b, compacted);
                    var layout = XStateLayout.Create(b, conv.Image.Layout.Features & (b.SupportedXcr0 | b.SupportedXss | XFeatureMasks.FpSse)
                        | (compacted ? XFeatureMasks.CompactedFormat : 0), compacted);
                    foreach (var c in source.Layout.Components.Where(c => c.Number >= 2 && source.IsInUse(c.Number)))
                    {
                        int at = layout.OffsetOf(c.Number);
                        if (at < 0)
                        {
                            Assert.Contains(conv.Components, f => f.Number == c.Number && f.Fate == ComponentFate.Dropped);
                            dropped++;
                            continue;
                        }
                        Assert.Equal(source.Locate(c.Number).ToArray(), conv.Image.Bytes.AsSpan(at, c.Size).ToArray());
                    }
                    var kind = compacted ? conv.Image.Kind : ImageKind.Ptrace;
                    var decoded = XsaveImageFile.Open(conv.Image.Bytes, new XsaveImageOptions(kind, b), $"{a.Name}->{b.Name}").Threads[0];
                    foreach (var r in source.Registers.Where(r => decoded.Has(r.Name)))
                    {
                        Assert.True(source.ReadRegisterHex(r.Name) == decoded.ReadRegisterHex(r.Name), $"{a.Name} -> {b.Name} {(compacted ? "compacted" : "standard")}: {r.Name}");
                        registers++;
                    }
                    foreach (var r in source.Registers.Where(r => !decoded.Has(r.Name)))
                        Assert.Contains(conv.Components, f => f.Fate == ComponentFate.Dropped && (r.Components >> f.Number & 1) != 0);
                    pairs++;
                }
        output.WriteLine($"seed {Seed}: {pairs} conversions over {cpus.Count} CPUs, {registers} register values compared, {dropped} components dropped");
        Assert.True(pairs >= cpus.Count * cpus.Count);
    }
}
