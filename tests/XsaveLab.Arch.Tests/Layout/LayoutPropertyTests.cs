namespace XsaveLab.Arch.Tests.Layout;

/// <summary>The compacted-form rules (SDM Vol.1 §13.4.3) on random valid masks of every catalog CPU.</summary>
public class LayoutPropertyTests
{
    private const int Seed = 20261121;
    private const int Rounds = 400;

    private static IEnumerable<(CpuProfile Cpu, ulong Xcr0, ulong Xss, string Case)> Samples()
    {
        var rng = new Random(Seed);
        var cpus = CpuCatalog.All.Where(p => p.HasXsaves).ToList();
        for (int n = 0; n < Rounds; n++)
        {
            var cpu = cpus[rng.Next(cpus.Count)];
            ulong x;
            do
                x = (cpu.SupportedXcr0 & (ulong)rng.NextInt64()) | XFeatureMasks.FpSse;
            while (!Xcr0Rules.IsValid(x));
            ulong s = cpu.SupportedXss & (ulong)rng.NextInt64();
            yield return (cpu, x, s, $"seed {Seed} round {n}: {cpu.Name} XCR0 0x{x:x} XSS 0x{s:x}");
        }
    }

    [Fact]
    public void Compacted_ComponentsFollowEachOther_PaddedOnlyForAlignment()
    {
        foreach (var (cpu, x, s, label) in Samples())
        {
            var v = LayoutView.Create(cpu, x, s);
            var placed = v.Components.Where(c => c.Number >= 2).OrderBy(c => c.Number).ToList();
            int end = XsaveOffsets.ExtendedStart;
            foreach (var c in placed)
            {
                int off = c.CompactedOffset!.Value;
                int expected = c.Aligned64 ? (end + 63) & ~63 : end;
                Assert.True(off == expected, $"{label}: component {c.Number} at {off}, expected {expected}");
                end = off + c.Size;
            }
            Assert.True(v.CompactedWithSupervisorSize == end, $"{label}: size {v.CompactedWithSupervisorSize}, components end at {end}");
        }
    }

    [Fact]
    public void Compacted_OffsetsDependOnlyOnLowerComponents()
    {
        foreach (var (cpu, x, s, label) in Samples())
        {
            ulong all = x | s;
            int top = XFeatureMasks.Topmost(all);
            ulong lower = all & ~(1UL << top);
            for (int i = 2; i < top; i++)
                if ((lower >> i & 1) != 0)
                    Assert.True(XStateGeometry.Offset(cpu, all, i, true) == XStateGeometry.Offset(cpu, lower, i, true), $"{label}: component {i}");
        }
    }

    [Fact]
    public void Standard_SizeIsTheFurthestUserComponentEnd_AndIgnoresSupervisorState()
    {
        foreach (var (cpu, x, s, label) in Samples())
        {
            var v = LayoutView.Create(cpu, x, s);
            int end = v.Components.Where(c => c.StandardOffset is not null).Max(c => c.StandardOffset!.Value + c.Size);
            Assert.True(Math.Max(end, 576) == v.StandardSize, label);
            Assert.Equal(XStateGeometry.Size(cpu, x, false), XStateGeometry.Size(cpu, x | s, false));
            Assert.All(v.Components.Where(c => c.Supervisor), c => Assert.Null(c.StandardOffset));
        }
    }

    [Fact]
    public void Compacted_NeverLargerThanStandard_ForUserState()
    {
        foreach (var (cpu, x, _, label) in Samples())
            Assert.True(XStateGeometry.Size(cpu, x, true) <= XStateGeometry.Size(cpu, x, false), label);
    }
}
