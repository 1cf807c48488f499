using XsaveLab.Host.Tests.Kvm;
using XsaveLab.Kernel.Variants;
using XsaveLab.Kvm;
using XsaveLab.Kvm.Caps;
using XsaveLab.Kvm.Image;

namespace XsaveLab.Host.Tests.Image;

/// <summary><see cref="ImageValidation"/> against this machine: seeded malformed images are given to the real
/// consumer (PTRACE_SETREGSET on a traced child, rt_sigreturn of an edited frame, a user-mode XRSTOR in a traced
/// child, KVM_SET_XSAVE on a vCPU) and to the validator for this CPU; every verdict must match.</summary>
public sealed class ImageValidationLiveTests(ITestOutputHelper output)
{
    private const int Cases = 200;
    private const int Seed = 0x12_0001;

    private static CpuProfile HostProfile()
    {
        HostFacts.SkipUnlessXsaveLinux();
        Skip.IfNot(HostCpu.TryRead(out var cpu, out var why), $"cannot read this CPU: {why}");
        return cpu!;
    }

    private static ulong Xcr0(byte[] getImage) => BinaryPrimitives.ReadUInt64LittleEndian(getImage.AsSpan(XsaveOffsets.SwReserved));

    private void Report(string consumer, int seed, int accepted, int rejected, List<string> disagreements, string detail = "")
    {
        output.WriteLine($"{consumer}: seed 0x{seed:x}, {accepted + rejected} images: {accepted} accepted, {rejected} rejected, {disagreements.Count} disagreements{detail}");
        foreach (var d in disagreements.Take(10))
            output.WriteLine("  " + d);
        Assert.True(accepted > 0 && rejected > 0, $"{consumer}: the seeded images must include accepted and rejected ones ({accepted}/{rejected})");
        Assert.Empty(disagreements);
    }

    private static string Hex(int? offset) => offset is int o ? $"0x{o:x}" : "-";

    [SkippableFact]
    public void Ptrace_verdicts_agree_with_PTRACE_SETREGSET()
    {
        var cpu = HostProfile();
        var launcher = HostFacts.ChildLauncher();
        TracedChild child;
        try
        {
            child = TracedChild.SpawnLoadedRegisters(launcher, 0x5EED_1201);
        }
        catch (HostProbeException e)
        {
            throw new SkipException($"cannot trace a child here: {e.Message}");
        }
        using (child)
        {
            var valid = child.GetRegset(NoteType.NtX86Xstate).Data;
            ulong xcr0 = Xcr0(valid);
            var rng = new Random(Seed);
            int accepted = 0, rejected = 0;
            var errnos = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var disagreements = new List<string>();
            for (int i = 0; i < Cases; i++)
            {
                var img = MalformedImages.Next(rng, valid, xcr0, resize: true);
                var verdict = ImageValidation.Validate(img, ImageConsumer.Ptrace, cpu);
                var live = child.SetRegset(NoteType.NtX86Xstate, img, img.Length);
                string actual = live.Ok ? "loaded" : "-" + live.Errno.Name();
                if (live.Ok) accepted++; else rejected++;
                errnos[actual] = errnos.GetValueOrDefault(actual) + 1;
                if (verdict.Outcome != actual)
                    disagreements.Add($"#{i} ({img.Length} bytes): validator {verdict.Outcome} at {Hex(verdict.Offset)} ({verdict.Rule}), kernel {actual}");
                if (live.Ok)
                    Assert.True(child.SetRegset(NoteType.NtX86Xstate, valid).Ok);
            }
            Report("ptrace", Seed, accepted, rejected, disagreements, $" ({string.Join(", ", errnos.Select(e => $"{e.Key} {e.Value}"))})");
        }
    }

    [SkippableFact]
    public void Sigreturn_verdicts_agree_with_rt_sigreturn()
    {
        var cpu = HostProfile();
        var launcher = HostFacts.ChildLauncher();
        const int sigsegv = 11;
        var seeds = Enumerable.Range(0, Cases).Select(i => 0x5160_1200UL + (ulong)i).ToList();
        TracedChild child;
        try
        {
            child = TracedChild.SpawnLoadedRegisters(launcher, seeds);
        }
        catch (HostProbeException e)
        {
            throw new SkipException($"cannot trace a child here: {e.Message}");
        }
        using (child)
        {
            var rng = new Random(Seed + 1);
            int accepted = 0, rejected = 0, fxOnly = 0;
            var disagreements = new List<string>();
            for (int i = 0; i < Cases; i++)
            {
                var clean = child.GetRegset(NoteType.NtX86Xstate);
                Assert.True(clean.Ok, clean.ToString());
                using (var hs = HandlerStop.Enter(child, out string why))
                {
                    Skip.If(hs is null, why);
                    // The frame's own xstate_size says where MAGIC2 is: the fpstate part is user_size + 4 bytes.
                    int userSize = BinaryPrimitives.ReadInt32LittleEndian(hs!.Read(hs.BufFx + XsaveOffsets.SwReserved + 16, 4));
                    var frame = hs.Read(hs.BufFx, userSize + SigframeSizes.Magic2Size);
                    var edited = MalformedImages.Next(rng, frame, Xcr0(clean.Data), resize: false);
                    hs.Write(hs.BufFx, edited);
                    var verdict = ImageValidation.Validate(edited, ImageConsumer.Sigreturn, cpu);
                    var exit = hs.Sigreturn();
                    var next = exit.Stopped ? hs.NextStop() : exit;
                    Assert.True(next.Stopped, $"#{i}: the child {next}");
                    bool segv = next.StopSignal == sigsegv;
                    if (segv) rejected++; else accepted++;
                    if (verdict.Outcome.Contains("FX-only", StringComparison.Ordinal)) fxOnly++;
                    if (verdict.Accepted == segv)
                        disagreements.Add($"#{i}: validator {verdict.Outcome} at {Hex(verdict.Offset)} ({verdict.Rule}), rt_sigreturn {(segv ? "SIGSEGV" : "returned")}");
                }
                // Whatever the frame loaded (a PKRU that denies the stack, say) must not reach the child's own code.
                Assert.True(child.SetRegset(NoteType.NtX86Xstate, clean.Data).Ok);
                bool more = child.ContinueToNextSeed();
                Assert.Equal(i < Cases - 1, more);
            }
            Report("sigreturn", Seed + 1, accepted, rejected, disagreements, $" ({fxOnly} restored as FX-only frames)");
        }
    }

    [SkippableFact]
    public void Xrstor_verdicts_agree_with_the_processor()
    {
        var cpu = HostProfile();
        var launcher = HostFacts.ChildLauncher();
        XrstorTrapChild child;
        try
        {
            child = XrstorTrapChild.Start(launcher);
        }
        catch (HostProbeException e)
        {
            throw new SkipException($"cannot trace a child here: {e.Message}");
        }
        using (child)
        {
            var traced = TracedChild.SpawnLoadedRegisters(launcher, 0x5EED_1203);
            byte[] valid;
            using (traced)
                valid = traced.GetRegset(NoteType.NtX86Xstate).Data;
            ulong xcr0 = Xcr0(valid);
            var rng = new Random(Seed + 2);
            int accepted = 0, rejected = 0;
            var disagreements = new List<string>();
            for (int i = 0; i < Cases; i++)
            {
                var img = MalformedImages.Next(rng, valid, xcr0, resize: false);
                var verdict = ImageValidation.Validate(img, ImageConsumer.Xrstor, cpu);
                var live = child.Restore(img);
                if (live.Faulted) rejected++; else accepted++;
                if (verdict.Accepted == live.Faulted)
                    disagreements.Add($"#{i}: validator {verdict.Outcome} at {Hex(verdict.Offset)} ({verdict.Rule}), processor {live}");
            }
            Report("xrstor", Seed + 2, accepted, rejected, disagreements);
        }
    }

    [SkippableFact]
    public void Kvm_verdicts_agree_with_KVM_SET_XSAVE()
    {
        var cpu = HostProfile();
        var (dev, _, vcpu) = KvmFacts.OpenVcpu();
        using var _ = dev;
        var flavour = KvmChecks.DetectFlavour(cpu, out string why) ?? KvmFlavour.Upstream;
        var settings = KvmSettings.For(cpu, KernelVariants.Default, KvmRelease.Kvm618, flavour);
        var get = vcpu.GetXsave();
        Assert.True(get.Ok, get.ToString());
        var valid = get.Data!;
        ulong xcr0 = KvmFacts.SupportedXcr0(dev);
        var rng = new Random(Seed + 3);
        int accepted = 0, rejected = 0;
        var disagreements = new List<string>();
        for (int i = 0; i < Cases; i++)
        {
            var img = MalformedImages.Next(rng, valid, xcr0, resize: false);
            var verdict = ImageValidation.Validate(img, ImageConsumer.Kvm, cpu, kvm: settings);
            var live = vcpu.SetXsave(img);
            string actual = live.Ok ? "loaded" : "-" + live.Errno.Name();
            if (live.Ok) accepted++; else rejected++;
            if (verdict.Outcome != actual)
                disagreements.Add($"#{i}: validator {verdict.Outcome} at {Hex(verdict.Offset)} ({verdict.Rule}), KVM {actual}");
        }
        Report("kvm", Seed + 3, accepted, rejected, disagreements, $" (flavour {settings.Flavour.Name}{(why.Length > 0 ? $": {why}" : "")})");
    }
}
