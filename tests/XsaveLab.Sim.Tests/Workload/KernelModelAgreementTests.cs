namespace XsaveLab.Sim.Tests.Workload;

/// <summary>The simulator's struct-of-arrays switch path against the kernel model's task objects.</summary>
public class KernelModelAgreementTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("zen5-turin", "6.17", false)]
    [InlineData("zen5-turin", "case3", true)]
    [InlineData("tgl", "6.16", false)]
    [InlineData("spr", "6.17", true)]
    [InlineData("haswell", "6.17", false)]
    public void Same_saves_restores_and_buffers_as_the_kernel_model(string cpu, string variant, bool wide)
    {
        var sys = FpuSystem.Boot(CpuCatalog.Get(cpu), KernelVariants.Get(variant));
        const int switches = 301;
        var sim = new Simulator(sys, new WorkloadSpec { PingPongPairs = 1, WideVectors = wide });
        var s = sim.Run(switches);
        var k = KernelModelReference.PingPong(sys, sim.PingPongInUse, switches);
        var c = k.Kernel.Counters;
        output.WriteLine($"sim: saves {s.SwitchSaves.Count} restores {s.SwitchRestores.Count}; kernel: saves {c.Saves} restores {c.Restores} avoided {c.RestoresAvoided}");
        Assert.True(s.Faults == 0, s.FirstFault);
        Assert.Empty(k.Kernel.Violations);
        Assert.Equal(c.Saves, s.SwitchSaves.Count);
        Assert.Equal(c.Restores, s.SwitchRestores.Count);
        // The same bytes moved: what each save wrote and each restore read.
        output.WriteLine($"bytes: sim saved {s.SwitchSaves.Bytes} restored {s.SwitchRestores.Bytes}; kernel saved {c.SavedBytes} restored {c.RestoredBytes}");
        Assert.True(s.SwitchSaves.Bytes > 0 && s.SwitchRestores.Bytes > 0);
        Assert.Equal(c.SavedBytes, s.SwitchSaves.Bytes);
        Assert.Equal(c.RestoredBytes, s.SwitchRestores.Bytes);
        // Byte for byte the same fpstate buffers for both tasks (task 0 = A, task 1 = B).
        Assert.Equal(k.A.Fpu.FpState.Regs.ToArray(), sim.HostFpstate(0).ToArray());
        Assert.Equal(k.B.Fpu.FpState.Regs.ToArray(), sim.HostFpstate(1).ToArray());
    }
}

public class KernelModelVcpuAgreementTests
{
    [Theory]
    [InlineData("zen5-turin", "6.17")]
    [InlineData("zen5-turin", "6.16")]
    [InlineData("tgl", "case3")]
    public void Vcpu_threads_leave_the_same_guest_and_host_buffers_as_the_kernel_models_guest_api(string cpu, string variant)
    {
        var sys = FpuSystem.Boot(CpuCatalog.Get(cpu), KernelVariants.Get(variant));
        const int switches = 41;
        var sim = new Simulator(sys, new WorkloadSpec { PingPongPairs = 0, Vcpus = 2, VcpuExitsPerSecond = 0 });
        var s = sim.Run(switches);
        Assert.True(s.Faults == 0, s.FirstFault);
        var k = KernelModelReference.Vcpus(sys, 2, sim.PingPongInUse, sim.VcpuGuestInUse, switches);
        Assert.Empty(k.Kernel.Violations);
        var c = k.Kernel.Counters;
        Assert.Equal(c.Saves, s.SwitchSaves.Count + s.GuestSwapSaves.Count);
        Assert.Equal(c.Restores, s.SwitchRestores.Count + s.GuestSwapRestores.Count);
        Assert.Equal(c.SavedBytes, s.SwitchSaves.Bytes + s.GuestSwapSaves.Bytes);
        Assert.Equal(c.RestoredBytes, s.SwitchRestores.Bytes + s.GuestSwapRestores.Bytes);
        for (int t = 0; t < 2; t++)
        {
            Assert.Equal(k.Guests[t].FpState!.Regs.ToArray(), sim.GuestFpstate(t).ToArray());
            // In KVM_RUN fpu->fpstate is the guest's; the thread's own buffer waits in __task_fpstate.
            var host = k.Threads[t].Fpu.TaskFpState ?? k.Threads[t].Fpu.FpState;
            Assert.NotSame(k.Guests[t].FpState, host);
            Assert.Equal(host.Regs.ToArray(), sim.HostFpstate(t).ToArray());
        }
    }
}
