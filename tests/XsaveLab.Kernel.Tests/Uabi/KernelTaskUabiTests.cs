namespace XsaveLab.Kernel.Tests.Uabi;

/// <summary>The UABI paths on the task model: registers a task wrote are what ptrace reads once it is
/// switched out, and what ptrace writes is what the task runs with after the next switch in.</summary>
public class KernelTaskUabiTests
{
    public static IEnumerable<object[]> Cpus() => new[] { "spr", "zen4-genoa", "skx", "adl", "haswell" }.Select(c => new object[] { c });

    [Theory]
    [MemberData(nameof(Cpus))]
    public void Ptrace_sees_the_registers_a_task_wrote_and_the_task_runs_with_what_ptrace_wrote(string cpu)
    {
        var k = KernelKit.Kernel(cpu);
        var cfg = KernelTaskUabi.Config(k);
        var rng = new Random(42);
        var t = k.SpawnProcess("traced");
        var other = k.SpawnProcess("other");
        k.Schedule(0, t);
        var written = new Dictionary<int, byte[]>();
        foreach (int c in KernelKit.TestableComponents(k).Where(c => c >= 2 && (cfg.UserDefaultFeatures >> c & 1) != 0 && c != 9))
        {
            var d = KernelKit.RandomData(k, c, rng);
            Assert.True(k.UseComponent(t, c, d).Done);
            written[c] = k.ReadComponent(t, c).ToArray();
        }
        k.Schedule(0, other); // t is switched out: its registers are saved in its fpstate

        var get = KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Xstate, 16384);
        Assert.True(get.Ok, get.Rule);
        Assert.Equal(cfg.UserMaxFeatures, BinaryPrimitives.ReadUInt64LittleEndian(get.Data.AsSpan(464)));
        foreach (var (c, d) in written)
            Assert.Equal(d, get.Data.AsSpan(cfg.StandardOffset(c), cfg.Size(c)).ToArray());

        var img = UabiRandom.XstateImage(cfg, 7);
        var set = KernelTaskUabi.PtraceSetRegset(cfg, t, NoteType.NtX86Xstate, img);
        Assert.True(set.Ok, set.Rule);
        Assert.Equal(-1, t.Fpu.LastCpu);
        k.Schedule(0, t); // switched in: the registers come from the modified fpstate
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512));
        foreach (int c in written.Keys)
        {
            var expect = (bv >> c & 1) != 0 ? img.AsSpan(cfg.StandardOffset(c), cfg.Size(c)).ToArray() : new byte[cfg.Size(c)];
            Assert.Equal(expect, k.ReadComponent(t, c).ToArray());
        }
        KernelKit.AssertInvariants(k);
    }

    [Theory]
    [MemberData(nameof(Cpus))]
    public void Sigreturn_on_the_task_model_restores_the_frame_written_at_delivery(string cpu)
    {
        var k = KernelKit.Kernel(cpu);
        var cfg = KernelTaskUabi.Config(k);
        Assert.True(cfg.UseXsave, $"{cpu} is listed as an XSAVE CPU");
        var t = k.SpawnProcess("sig");
        var other = k.SpawnProcess("other");
        k.Schedule(0, t);
        var rng = new Random(3);
        foreach (int c in KernelKit.TestableComponents(k).Where(c => c >= 2 && (cfg.UserDefaultFeatures >> c & 1) != 0 && c != 9))
            Assert.True(k.UseComponent(t, c, KernelKit.RandomData(k, c, rng)).Done);
        k.Schedule(0, other);
        var before = KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        var frame = new byte[t.Fpu.FpState.UserSize + 4];
        KernelTaskUabi.CopyFpstateToSigframe(cfg, t, frame);
        // The handler's own state is thrown away by sigreturn.
        Sigframes.ClearUserStates(cfg, KernelTaskUabi.View(t));
        var r = KernelTaskUabi.FpuRestoreSig(cfg, t, frame);
        Assert.True(r.Ok, r.Rule);
        var after = KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        // Registers equal; XSTATE_BV may differ only by FP|SSE, which every frame marks in use. MXCSR_MASK is
        // not a register (read-only, what FXSAVE reports): the task model's init_fpstate and its CPU model may
        // disagree on it, so it is left out.
        after.AsSpan(512, 8).CopyTo(before.AsSpan(512, 8));
        after.AsSpan(28, 4).CopyTo(before.AsSpan(28, 4));
        Assert.Equal(Convert.ToHexString(before), Convert.ToHexString(after));
        k.Schedule(0, t);
        KernelKit.AssertInvariants(k);
    }
}

/// <summary>AMX on the task model: after permission and first use the task's fpstate is reallocated; ptrace then
/// sees the full user size and the tiles, and signal frames carry tile data only while it is in use.</summary>
public class KernelTaskUabiAmxTests
{
    [Theory]
    [MemberData(nameof(KernelKit.AmxCpus), MemberType = typeof(KernelKit))]
    public void Reallocated_fpstate_shows_tiles_in_ptrace_and_in_frames_only_while_in_use(string cpu)
    {
        var k = KernelKit.Kernel(cpu, cpus: 2);
        var cfg = KernelTaskUabi.Config(k);
        var t = k.SpawnProcess("amx");
        var other = k.SpawnProcess("other");
        k.Schedule(0, t);
        Assert.Equal(0, k.ArchPrctlRequest(t, 18));
        var tiles = KernelKit.RandomData(k, 18, new Random(18));
        Assert.True(k.UseComponent(t, 18, tiles).Done);
        k.Schedule(0, other);

        Assert.NotEqual(0UL, t.Fpu.FpState.UserXfeatures & XsaveLab.Arch.Features.XFeatureMasks.XtileData);
        var get = KernelTaskUabi.PtraceGetRegset(cfg, t, NoteType.NtX86Xstate, 1 << 16);
        Assert.Equal(cfg.UserMaxSize, get.IovLen);
        int td = cfg.StandardOffset(18);
        Assert.Equal(tiles, get.Data.AsSpan(td, tiles.Length).ToArray());

        var frame = new byte[t.Fpu.FpState.UserSize + 4];
        frame.AsSpan().Fill(0xEE);
        KernelTaskUabi.CopyFpstateToSigframe(cfg, t, frame);
        Assert.Equal(tiles, frame.AsSpan(td, tiles.Length).ToArray());

        // TILERELEASE: tile data back in init state, so the next frame leaves its area untouched.
        k.Schedule(0, t);
        k.InitComponent(t, 18);
        k.Schedule(0, other);
        frame.AsSpan().Fill(0xEE);
        KernelTaskUabi.CopyFpstateToSigframe(cfg, t, frame);
        Assert.True(frame.AsSpan(td, tiles.Length).IndexOfAnyExcept((byte)0xEE) < 0);
        KernelKit.AssertInvariants(k);
    }
}

public class SigaltstackSizeTests
{
    [Theory]
    [MemberData(nameof(KernelKit.AmxCpus), MemberType = typeof(KernelKit))]
    public void Sigaltstack_rule_agrees_with_the_task_model_around_the_threshold(string cpu)
    {
        var k = KernelKit.Kernel(cpu, cpus: 1);
        var cfg = KernelTaskUabi.Config(k);
        var t = k.SpawnProcess("alt");
        foreach (bool amx in new[] { false, true })
        {
            if (amx)
                Assert.Equal(0, k.ArchPrctlRequest(t, 18));
            var perm = t.Leader.Fpu.Perm;
            long fsize = SigframeSizes.MaxFrameSize(cfg) - SigframeSizes.FpuGetFpstateSize(cfg) + perm.UserStateSize;
            foreach (long size in new[] { 2048L, fsize - 1, fsize, fsize + 1, (long)SigframeSizes.MaxFrameSize(cfg) })
            {
                bool model = SigframeSizes.SigaltstackSizeValid(cfg, (ulong)size, perm.UserStateSize, amx, strict: false);
                Assert.True(k.SigaltstackSizeValid(t, (ulong)size) == model, $"{cpu} amx={amx} size={size}");
                // With AMX permitted, only a stack larger than the frame for the permitted size is accepted.
                if (amx)
                    Assert.Equal(size > fsize, model);
            }
        }
    }
}
