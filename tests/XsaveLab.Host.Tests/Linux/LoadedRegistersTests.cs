namespace XsaveLab.Host.Tests.Linux;

/// <summary>A child loads seeded register values and stops inside the loading stub; the kernel's
/// NT_X86_XSTATE must report exactly those registers.</summary>
public class LoadedRegistersTests
{
    private static TracedChild Spawn(ChildLauncher launcher, IReadOnlyList<ulong> seeds)
    {
        try
        {
            return TracedChild.SpawnLoadedRegisters(launcher, seeds);
        }
        catch (HostProbeException e) when (HostFacts.CannotTraceReason() is { } why)
        {
            Skip.If(true, $"cannot trace a child here: {why} ({e.Message})");
            throw;
        }
    }

    [SkippableFact]
    public void Child_registers_read_back_identically_for_twenty_seeds()
    {
        var launcher = HostFacts.ChildLauncher();
        var layout = UserXstateLayout.FromHost();
        ulong[] seeds = [.. Enumerable.Range(0, 20).Select(i => 0x5EED0000UL + (ulong)i * 7919)];
        using var child = Spawn(launcher, seeds);
        int checkedSeeds = 0;
        do
        {
            ulong seed = child.CurrentSeed!.Value;
            var r = child.GetRegset(NoteType.NtX86Xstate);
            Assert.True(r.Ok, $"seed {seed}: {r}");
            var expected = SeededXstateImage.Build(seed, layout);
            var diffs = expected.CompareWith(r.Data);
            Assert.True(diffs.Count == 0, $"seed {seed}:\n{string.Join("\n", diffs)}");
            checkedSeeds++;
        }
        while (child.ContinueToNextSeed());
        Assert.Equal(seeds.Length, checkedSeeds);
        Assert.True(child.LastStatus is { Exited: true, ExitCode: 0 }, child.LastStatus.ToString());
    }

    [SkippableFact]
    public void Comparison_detects_another_seeds_registers()
    {
        var launcher = HostFacts.ChildLauncher();
        var layout = UserXstateLayout.FromHost();
        using var child = Spawn(launcher, [1]);
        var r = child.GetRegset(NoteType.NtX86Xstate);
        Assert.NotEmpty(SeededXstateImage.Build(2, layout).CompareWith(r.Data));
        Assert.Empty(SeededXstateImage.Build(1, layout).CompareWith(r.Data));
    }

    [SkippableFact]
    public void Setregset_of_a_seeded_image_into_the_stopped_child_reads_back()
    {
        var launcher = HostFacts.ChildLauncher();
        var layout = UserXstateLayout.FromHost();
        using var child = Spawn(launcher, [7]);
        var other = SeededXstateImage.Build(1007, layout);
        var img = (byte[])other.Image.Clone();
        // A kernel image carries the user features at 464; keep PKRU as the child has it (never deny key 0).
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(464), layout.Features);
        var live = child.GetRegset(NoteType.NtX86Xstate).Data;
        if (layout.Has(9))
        {
            var (off, size) = layout.Component(9);
            live.AsSpan(off, size).CopyTo(img.AsSpan(off));
            ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512)) | (BinaryPrimitives.ReadUInt64LittleEndian(live.AsSpan(512)) & XFeatureMasks.Pkru);
            BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), bv);
        }
        var set = child.SetRegset(NoteType.NtX86Xstate, img);
        Assert.True(set.Ok, set.ToString());
        var back = child.GetRegset(NoteType.NtX86Xstate).Data;
        Assert.Empty(other.CompareWith(back));
        // The child restores its own registers after the stop and exits normally.
        Assert.False(child.ContinueToNextSeed());
        Assert.True(child.LastStatus is { Exited: true, ExitCode: 0 }, child.LastStatus.ToString());
    }

    [Fact]
    public void Seeded_images_are_deterministic_and_valid()
    {
        var layout = new UserXstateLayout(0x2E7, i => i switch
        {
            2 => (576, 256),
            5 => (832, 64),
            6 => (896, 512),
            7 => (1408, 1024),
            9 => (2432, 8),
            _ => (0, 0),
        });
        Assert.Equal(2440, layout.Size);
        var a = SeededXstateImage.Build(42, layout);
        var b = SeededXstateImage.Build(42, layout);
        Assert.Equal(a.Image, b.Image);
        Assert.Equal(0xE7UL, a.LoadedFeatures); // PKRU never loaded
        Assert.Equal(0xE7UL, a.RestoreMask);
        uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(a.Image.AsSpan(24));
        Assert.Equal(0u, mxcsr & ~0xFFFFu);
        Assert.Equal(0x1F80u, mxcsr & 0x1F80u);
        Assert.All(a.Image[2432..2440], x => Assert.Equal(0, x));
        Assert.All(a.Image[512..576].Skip(8), x => Assert.Equal(0, x));
        Assert.NotEqual(a.Image, SeededXstateImage.Build(43, layout).Image);
    }
}
