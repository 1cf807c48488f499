namespace XsaveLab.Kvm.Tests;

/// <summary><see cref="VmmRunner.Clone()"/> is a deep copy: after a script that creates and destroys vCPUs, forks,
/// clones, execs and exits tasks, leaves a signal frame and a ptrace image pending, grows an fpstate for AMX and saves
/// a snapshot, every field of the copy (private ones included, through the kernel, its CPUs, tasks and fpstates, and
/// the VM and vCPUs) equals the original's, and no mutable object is shared. A field added later without being copied
/// fails here with its path.</summary>
public class RunnerCloneTests(ITestOutputHelper output)
{
    private const string Setup = """
        KVM_CREATE_VM
        task 0
        arch_prctl REQ_XCOMP_GUEST_PERM 18
        arch_prctl REQ_XCOMP_PERM 18
        KVM_CREATE_VCPU 0
        KVM_GET_SUPPORTED_CPUID
        KVM_SET_CPUID2 expose=all
        KVM_RUN guest: cr4.osxsave; xsetbv cpuid; wrmsr IA32_XSS cpuid
        KVM_RUN guest: write ymm; ldtilecfg; tileloadd; xsave buf cpuid
        KVM_GET_XSAVE2
        KVM_SET_XSAVE
        save snap
        KVM_DESTROY_VCPU
        KVM_CREATE_VCPU 1
        KVM_GET_SUPPORTED_CPUID
        KVM_SET_CPUID2 expose=all
        task 0
        fork
        task 1
        use 18
        signal
        ptrace GET
        sigaltstack 65536
        clone
        task 2
        exit
        task 1
        fork
        task 3
        exec
        switch 1
        """;

    // Lines run on both the original and the copy afterwards.
    private const string Later = """
        task 0
        signal
        task 1
        sigreturn
        vcpu 1
        KVM_RUN guest: cr4.osxsave; xsetbv cpuid; write ymm; ldtilecfg
        KVM_GET_XSAVE2
        task 3
        exit
        switch idle
        """;

    private static VmmRunner Booted()
    {
        var r = new VmmRunner(KvmSettings.For(CpuCatalog.Get("spr"), KernelVariants.V6_17));
        Run(r, Setup);
        return r;
    }

    private static void Run(VmmRunner r, string script)
    {
        foreach (var line in VmmScript.Parse(script, "clone-test").Lines)
            r.Execute(line);
    }

    [Fact]
    public void A_copy_equals_its_original_and_shares_nothing_mutable()
    {
        var original = Booted();
        // The script reached the states the copy must carry (otherwise the comparison below proves less).
        Assert.All(original.Steps, s => Assert.True(s.Result.Ok, $"{s.Ioctl} {s.Args}: {s.Text}"));
        Assert.NotNull(original.PendingFrame(original.Tasks[1]));
        Assert.True(original.Vm!.Vcpus.Count == 1 && original.FirstVcpu!.Destroyed);
        Assert.Contains(original.System!.Kernel.Tasks, t => t.State == TaskState.Dead);

        var copy = original.Clone();
        var problems = ObjectGraphComparison.Compare(original, copy);
        foreach (var p in problems)
            output.WriteLine(p);
        Assert.Empty(problems);
    }

    [Fact]
    public void A_copy_and_its_original_run_on_independently_and_stay_equal()
    {
        var original = Booted();
        var copy = original.Clone();
        var before = original.Clone();
        Run(copy, Later);
        // The copy's run left the original where it was: it still equals a copy taken before that run.
        Assert.Empty(ObjectGraphComparison.Compare(original, before));
        Run(original, Later);
        Assert.All(original.Steps, s => Assert.True(s.Result.Ok, $"{s.Ioctl} {s.Args}: {s.Text}"));
        var problems = ObjectGraphComparison.Compare(original, copy);
        foreach (var p in problems)
            output.WriteLine(p);
        Assert.Empty(problems);
    }

    [Fact]
    public void The_comparison_names_a_field_a_shallow_copy_shares()
    {
        var original = Booted();
        var shallow = (VmmRunner)typeof(object).GetMethod("MemberwiseClone", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!
            .Invoke(original, null)!;
        var problems = ObjectGraphComparison.Compare(original, shallow);
        foreach (var p in problems)
            output.WriteLine(p);
        Assert.Contains("VmmRunner._steps: the same mutable List`1 in the original and the copy", problems);
        Assert.Contains("VmmRunner._sys: the same mutable KvmSystem in the original and the copy", problems);
    }
}
