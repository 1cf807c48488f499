namespace XsaveLab.Arch.Tests.Machine;

/// <summary>Seeded random properties of the instruction model over synthetic, catalog and host profiles.
/// Every failure message names the profile, seed and iteration; set XSAVELAB_SEED to replay.</summary>
public class InstructionPropertyTests
{
    private const int Iterations = 300;
    private const ulong SaveAt = 0x100000, RestoreAt = 0x200000;

    private static int Seed(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable("XSAVELAB_SEED"), out int s) ? s : StableHash(name);

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (char c in s)
            h = h * 31 + c;
        return h & 0x7FFFFFFF;
    }

    public enum Kind { Xsave, Xsaveopt, Xsavec, Xsaves }

    private static bool Supported(CpuProfile p, Kind k) => k switch
    {
        Kind.Xsaveopt => p.HasXsaveopt,
        Kind.Xsavec => p.HasXsavec,
        Kind.Xsaves => p.HasXsaves,
        _ => true,
    };

    private static XsaveFault Save(XsaveCpu cpu, Kind k, Span<byte> area, ulong at, ulong mask) => k switch
    {
        Kind.Xsave => cpu.Xsave(area, at, mask),
        Kind.Xsaveopt => cpu.Xsaveopt(area, at, mask),
        Kind.Xsavec => cpu.Xsavec(area, at, mask),
        _ => cpu.Xsaves(area, at, mask),
    };

    private static ulong Enabled(XsaveCpu cpu, Kind k) => (k == Kind.Xsaves ? cpu.Xcr0 | cpu.Xss : cpu.Xcr0) & cpu.Enumerated;

    private static ulong RandomMask(Random rng, ulong of) => rng.Next(4) == 0 ? ~0UL : of & (ulong)rng.NextInt64() | (uint)rng.Next(2);

    private static byte[] Snapshot(XsaveCpu cpu, int i) => i == 0
        ? [.. cpu.Read(0)[..24], .. cpu.Read(0)[32..]]
        : cpu.Read(i).ToArray();

    public static IEnumerable<object[]> Kinds() => Enum.GetValues<Kind>().Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Save_then_restore_round_trips_every_requested_component(Kind kind)
    {
        foreach (var profile in TestCpus.All().Where(p => Supported(p, kind)))
        {
            int seed = Seed(profile.Name + kind);
            var rng = new Random(seed);
            var cpu = TestCpus.Booted(profile);
            var area = new byte[32768];
            for (int it = 0; it < Iterations; it++)
            {
                string where = $"{profile.Name} {kind} seed {seed} iteration {it}";
                ulong enabled = Enabled(cpu, kind);
                TestCpus.Randomize(cpu, rng, RandomMask(rng, enabled));
                ulong mask = RandomMask(rng, enabled);
                ulong rfbm = mask & enabled;
                rng.NextBytes(area);
                area.AsSpan(512, 64).Clear();
                var before = Enumerable.Range(0, 63).Select(i => (rfbm >> i & 1) != 0 ? Snapshot(cpu, i) : null).ToArray();
                uint mxcsr = cpu.Mxcsr;
                Assert.True(Save(cpu, kind, area, SaveAt, mask).Kind == FaultKind.None, where);

                TestCpus.Randomize(cpu, rng, RandomMask(rng, enabled));
                var f = kind == Kind.Xsaves ? cpu.Xrstors(area, SaveAt, mask) : cpu.Xrstor(area, SaveAt, mask);
                Assert.True(f.Kind == FaultKind.None, $"{where}: restore faulted: {f}");
                for (int i = 0; i < 63; i++)
                    if (before[i] is { } b)
                        Assert.True(b.AsSpan().SequenceEqual(Snapshot(cpu, i)), $"{where}: component {i} did not round-trip (RFBM 0x{rfbm:X})");
                if ((rfbm & XFeatureMasks.Sse) != 0)
                    Assert.True(mxcsr == cpu.Mxcsr, $"{where}: MXCSR 0x{mxcsr:X} came back as 0x{cpu.Mxcsr:X}");
            }
        }
    }

    [Theory]
    [InlineData(Kind.Xsavec)]
    [InlineData(Kind.Xsaves)]
    public void Compacted_saves_write_xstate_bv_within_xcomp_bv(Kind kind)
    {
        foreach (var profile in TestCpus.All().Where(p => Supported(p, kind)))
        {
            int seed = Seed(profile.Name + "xcomp" + kind);
            var rng = new Random(seed);
            var cpu = TestCpus.Booted(profile);
            var area = new byte[32768];
            for (int it = 0; it < Iterations; it++)
            {
                ulong enabled = Enabled(cpu, kind);
                TestCpus.Randomize(cpu, rng, RandomMask(rng, enabled));
                ulong mask = RandomMask(rng, enabled);
                rng.NextBytes(area);
                Assert.False(Save(cpu, kind, area, SaveAt, mask).IsFault);
                var a = new XsaveArea(area);
                string where = $"{profile.Name} {kind} seed {seed} iteration {it}: XSTATE_BV 0x{a.XstateBv:X} XCOMP_BV 0x{a.XcompBv:X}";
                Assert.True(XFeatureMasks.IsSubset(a.XstateBv, a.XcompBv & ~XFeatureMasks.CompactedFormat), where);
                Assert.True(a.XcompBv == ((mask & enabled) | XFeatureMasks.CompactedFormat), where);
            }
        }
    }

    [Fact]
    public void Compacted_images_restore_like_standard_ones()
    {
        foreach (var profile in TestCpus.All().Where(p => p.HasXsavec))
        {
            int seed = Seed(profile.Name + "compacted-vs-standard");
            var rng = new Random(seed);
            var std = TestCpus.Booted(profile);
            var cmp = TestCpus.Booted(profile);
            var a = new byte[32768];
            var b = new byte[32768];
            for (int it = 0; it < Iterations; it++)
            {
                string where = $"{profile.Name} seed {seed} iteration {it}";
                int stateSeed = rng.Next();
                ulong init = RandomMask(rng, std.Xcr0);
                TestCpus.Randomize(std, new Random(stateSeed), init);
                a.AsSpan().Clear();
                b.AsSpan().Clear();
                Assert.False(std.Xsave(a, SaveAt, ~0UL).IsFault, where);
                Assert.False(std.Xsavec(b, SaveAt, ~0UL).IsFault, where);

                int scramble = rng.Next();
                TestCpus.Randomize(std, new Random(scramble), 0);
                TestCpus.Randomize(cmp, new Random(scramble), 0);
                ulong mask = RandomMask(rng, std.Xcr0);
                Assert.False(std.Xrstor(a, RestoreAt, mask).IsFault, where);
                Assert.False(cmp.Xrstor(b, RestoreAt, mask).IsFault, where);
                ulong rfbm = mask & std.Xcr0;
                for (int i = 0; i < 63; i++)
                    if ((std.Enumerated >> i & 1) != 0 && ((std.Xcr0 | std.Xss) >> i & 1) != 0)
                        Assert.True(Snapshot(std, i).AsSpan().SequenceEqual(Snapshot(cmp, i)), $"{where}: component {i} differs (RFBM 0x{rfbm:X})");
                // The one legitimate difference: with AVX but not SSE requested, the standard form loads MXCSR
                // and the compacted form (where MXCSR belongs to SSE) leaves it alone.
                bool mxcsrComparable = (rfbm & XFeatureMasks.Sse) != 0 || (rfbm & XFeatureMasks.Ymm) == 0;
                if (mxcsrComparable)
                {
                    Assert.True(std.Mxcsr == cmp.Mxcsr, $"{where}: MXCSR 0x{std.Mxcsr:X} vs 0x{cmp.Mxcsr:X} (RFBM 0x{rfbm:X})");
                    Assert.True(std.XinUse == cmp.XinUse, $"{where}: XINUSE 0x{std.XinUse:X} vs 0x{cmp.XinUse:X}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void An_xfd_armed_component_never_appears_in_a_save_image(Kind kind)
    {
        var profiles = TestCpus.All().Where(p => p.HasXfd && Supported(p, kind)).ToList();
        Assert.NotEmpty(profiles); // the synthetic SPR-like profile always has XFD
        foreach (var profile in profiles)
        {
            int seed = Seed(profile.Name + "xfd" + kind);
            var rng = new Random(seed);
            var cpu = TestCpus.Booted(profile);
            var area = new byte[32768];
            for (int it = 0; it < 50; it++)
            {
                string where = $"{profile.Name} {kind} seed {seed} iteration {it}";
                Assert.False(cpu.Wrmsr(Msr.IA32_XFD, 0).IsFault);
                ulong enabled = Enabled(cpu, kind);
                TestCpus.Randomize(cpu, rng, 0);
                ulong capable = 0;
                for (int i = 0; i < 63; i++)
                    if (profile.Component(i) is { Xfd: true } && (enabled >> i & 1) != 0)
                        capable |= 1UL << i;
                ulong armed = capable & ((ulong)rng.NextInt64() | 1UL << XFeatureMasks.Topmost(capable));
                Assert.False(cpu.Wrmsr(Msr.IA32_XFD, armed).IsFault, where);
                area.AsSpan().Fill(0xCC);
                area.AsSpan(512, 64).Clear();
                Assert.False(Save(cpu, kind, area, SaveAt + (ulong)it * 64 * 1024, ~0UL).IsFault, where);
                var a = new XsaveArea(area);
                Assert.True((a.XstateBv & armed) == 0, $"{where}: XSTATE_BV 0x{a.XstateBv:X} has armed 0x{armed:X}");
                for (int i = 0; i < 63; i++)
                {
                    if ((armed >> i & 1) == 0)
                        continue;
                    var slot = a.Component(profile, i);
                    bool untouchedOrInit = slot.IndexOfAnyExcept((byte)0xCC) < 0 || slot.IndexOfAnyExcept((byte)0) < 0;
                    Assert.True(untouchedOrInit, $"{where}: component {i} written while armed");
                    Assert.False(slot.SequenceEqual(cpu.Read(i)), $"{where}: component {i}'s registers are in the image");
                }
            }
        }
    }
}

/// <summary>Arbitrary bytes never make the model throw: every restore either faults (as a value) or leaves a
/// state that saves and restores back to itself.</summary>
public class RestoreFuzzTests
{
    [Fact]
    public void Arbitrary_images_fault_or_load_a_state_that_round_trips()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("XSAVELAB_SEED"), out int s) ? s : 424242;
        foreach (var profile in TestCpus.All())
        {
            var rng = new Random(seed);
            var cpu = TestCpus.Booted(profile);
            var image = new byte[32768];
            var again = new byte[32768];
            int loaded = 0;
            for (int it = 0; it < 400; it++)
            {
                string where = $"{profile.Name} seed {seed} iteration {it}";
                rng.NextBytes(image);
                var a = new XsaveArea(image);
                ulong enabled = cpu.Xcr0 | cpu.Xss;
                // Mostly plausible headers, sometimes raw noise.
                if (rng.Next(4) != 0)
                {
                    a.HeaderReserved.Clear();
                    a.XstateBv &= enabled;
                    a.XcompBv = rng.Next(2) == 0 || !profile.HasXsavec ? 0 : (a.XcompBv & enabled) | a.XstateBv | XFeatureMasks.CompactedFormat;
                    a.Mxcsr &= rng.Next(2) == 0 ? cpu.MxcsrMask : ~0u;
                }
                bool supervisor = profile.HasXsaves && rng.Next(2) == 0;
                ulong mask = (ulong)rng.NextInt64() | (rng.Next(2) == 0 ? ~0UL : 0);
                var f = supervisor ? cpu.Xrstors(image, 0x4000, mask) : cpu.Xrstor(image, 0x4000, mask);
                if (f.IsFault)
                {
                    Assert.True(f.Kind == FaultKind.GeneralProtection, $"{where}: {f}");
                    continue;
                }
                loaded++;
                // What was loaded is a state: saving it and loading that back changes nothing.
                var before = Enumerable.Range(0, 63).Where(i => (cpu.Enumerated >> i & 1) != 0 && ((cpu.Xcr0 | cpu.Xss) >> i & 1) != 0)
                    .Select(i => cpu.Read(i).ToArray()).ToList();
                ulong inUse = cpu.XinUse;
                again.AsSpan().Clear();
                Assert.False((profile.HasXsaves ? cpu.Xsaves(again, 0x8000, ~0UL) : cpu.Xsave(again, 0x8000, ~0UL)).IsFault, where);
                Assert.False((profile.HasXsaves ? cpu.Xrstors(again, 0x8000, ~0UL) : cpu.Xrstor(again, 0x8000, ~0UL)).IsFault, where);
                var after = Enumerable.Range(0, 63).Where(i => (cpu.Enumerated >> i & 1) != 0 && ((cpu.Xcr0 | cpu.Xss) >> i & 1) != 0)
                    .Select(i => cpu.Read(i).ToArray()).ToList();
                for (int k = 0; k < before.Count; k++)
                    Assert.True(before[k].AsSpan().SequenceEqual(after[k]), $"{where}: state changed by save+restore");
                Assert.True(inUse == cpu.XinUse, $"{where}: XINUSE 0x{inUse:X} became 0x{cpu.XinUse:X}");
            }
            Assert.True(loaded > 0, $"{profile.Name}: no image was accepted");
        }
    }
}
