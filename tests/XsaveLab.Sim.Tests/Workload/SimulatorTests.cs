namespace XsaveLab.Sim.Tests.Workload;

public class SimulatorTests
{
    private static FpuSystem Boot(string cpu, string variant) => FpuSystem.Boot(CpuCatalog.Get(cpu), KernelVariants.Get(variant));

    [Theory]
    [InlineData("zen5-turin", "6.17")]
    [InlineData("spr", "case3")]
    [InlineData("haswell", "6.16")]
    public void Context_switch1_counts_two_switches_per_round_trip_and_one_save_and_restore_each(string cpu, string variant)
    {
        var sim = new Simulator(Boot(cpu, variant), new WorkloadSpec { PingPongPairs = 3 });
        var s = sim.Run(6000);
        Assert.True(s.Faults == 0, s.FirstFault);
        Assert.Equal(6000, s.Switches);
        // Each switch is one round-trip half; the first switch of each pair has no completed iteration yet.
        Assert.InRange(s.PingPongIterations, s.Switches - 6, s.Switches);
        Assert.Equal(s.Switches, s.SwitchSaves.Count);
        Assert.Equal(s.Switches + 1, s.SwitchRestores.Count); // + the first task's return to user
        Assert.True(s.SwitchSaves.Bytes > 0 && s.SwitchRestores.Bytes > 0);
    }

    [Fact]
    public void Host_tasks_never_save_cet_supervisor_state_and_case3_costs_no_bytes_while_it_is_init()
    {
        // Case 2 (6.17) vs case 3: the 24-byte slot exists only in case 3, and XSAVES's init optimisation keeps it unwritten.
        var s17 = new Simulator(Boot("zen5-turin", "6.17"), new WorkloadSpec()).Run(2000);
        var sim3 = new Simulator(Boot("zen5-turin", "case3"), new WorkloadSpec());
        var s3 = sim3.Run(2000);
        Assert.Equal(s17.SwitchSaves.Bytes, s3.SwitchSaves.Bytes);
        Assert.Equal(s17.SwitchRestores.Bytes, s3.SwitchRestores.Bytes);
        Assert.NotEqual(0UL, sim3.Shapes.Task.Xfeatures & XFeatureMasks.CetKernel);
    }

    [Fact]
    public void Vcpu_threads_save_their_cet_supervisor_state_with_the_guest_fpstate()
    {
        var sys = Boot("zen5-turin", "6.17");
        var sim = new Simulator(sys, new WorkloadSpec { PingPongPairs = 1, Vcpus = 1, VcpuExitsPerSecond = 50_000 });
        var s = sim.Run(4000);
        Assert.True(s.Faults == 0, s.FirstFault);
        Assert.True(s.VcpuExits > 0);
        Assert.NotEqual(0UL, sim.Shapes.Vcpu.Xfeatures & XFeatureMasks.CetKernel);
        Assert.Equal(sys.GuestDefaultCfg.Size, sim.Shapes.Vcpu.Size);
        // Guest swaps save the guest state including CET_S: more bytes than a ping-pong task's save.
        Assert.True(s.GuestSwapSaves.BytesPerOp > s.SwitchSaves.BytesPerOp - 1);
    }

    [Fact]
    public void Without_guest_cet_the_deferred_vcpu_keeps_host_sized_fpstate()
    {
        var sys = Boot("zen5-turin", "deferred");
        var noCet = FpuShapes.Of(sys, guestUsesCet: false);
        var cet = FpuShapes.Of(sys, guestUsesCet: true);
        Assert.Equal(sys.KernelCfg.DefaultSize, noCet.Vcpu.Size);
        Assert.Equal(FpuShapes.Of(Boot("zen5-turin", "6.17")).Vcpu.Size, cet.Vcpu.Size);
    }

    [Fact]
    public void Wide_vectors_move_more_bytes_per_switch()
    {
        var narrow = new Simulator(Boot("zen5-turin", "6.17"), new WorkloadSpec()).Run(1000);
        var wide = new Simulator(Boot("zen5-turin", "6.17"), new WorkloadSpec { WideVectors = true }).Run(1000);
        Assert.True(wide.SwitchRestores.BytesPerOp > narrow.SwitchRestores.BytesPerOp + 1000,
            $"wide {wide.SwitchRestores.BytesPerOp} vs narrow {narrow.SwitchRestores.BytesPerOp}");
    }

    [Fact]
    public void Amx_users_on_an_amx_part_get_reallocated_fpstates_and_run_without_faults()
    {
        var sys = Boot("spr", "6.17");
        var sim = new Simulator(sys, new WorkloadSpec { PingPongPairs = 1, AmxUsers = 2 });
        var s = sim.Run(3000);
        Assert.True(s.Faults == 0, s.FirstFault);
        Assert.NotNull(sim.Shapes.Amx);
        Assert.True(sim.Shapes.Amx!.Value.Size > sys.KernelCfg.DefaultSize + 8000);
    }

    [Theory]
    [InlineData("zen5-turin", "6.17")]
    [InlineData("spr", "case3")]
    [InlineData("tgl", "6.15")]
    public void Memory_per_task_stays_within_fpstate_size_plus_64(string cpu, string variant)
    {
        var sys = Boot(cpu, variant);
        const int pairs = 500, idle = 9000;
        var sim = new Simulator(sys, new WorkloadSpec { PingPongPairs = pairs, IdleTasks = idle });
        var m = sim.Memory;
        Assert.Equal(2 * pairs + idle, m.Tasks);
        // Slots are packed at fpstate.size: nothing is spent on alignment padding.
        Assert.Equal((long)m.Tasks * sys.KernelCfg.DefaultSize, m.TaskFpstateBytes);
        Assert.True(m.BytesPerTask <= sys.KernelCfg.DefaultSize + 64, $"{m.BytesPerTask} B per task, fpstate {sys.KernelCfg.DefaultSize} B");
    }

    [Theory]
    [InlineData("spr", "6.17")]
    [InlineData("zen5-turin", "case3")]
    public void The_switch_loop_does_not_allocate(string cpu, string variant)
    {
        var sim = new Simulator(Boot(cpu, variant), new WorkloadSpec { PingPongPairs = 2, Vcpus = 1, AmxUsers = 1 });
        sim.Run(5000); // first runs and JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        var s = sim.Run(20_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(s.Faults == 0, s.FirstFault);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Several_cpus_share_the_work()
    {
        var s = new Simulator(Boot("zen5-turin", "6.17"), new WorkloadSpec { Cpus = 4, PingPongPairs = 8 }).Run(8000);
        Assert.True(s.Faults == 0, s.FirstFault);
        Assert.Equal(8000, s.Switches);
    }
}

public class SimulatorCatalogTests
{
    public static TheoryData<string, string> Cases()
    {
        var d = new TheoryData<string, string>();
        foreach (var e in XsaveLab.Arch.Catalog.CpuCatalog.Entries)
            foreach (var v in XsaveLab.Kernel.Variants.KernelVariants.Main)
                d.Add(e.Name, v.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Mixed_workload_runs_without_faults_on_every_catalog_cpu_and_variant(string cpu, string variant)
    {
        var sys = XsaveLab.Kernel.Boot.FpuSystem.Boot(XsaveLab.Arch.Catalog.CpuCatalog.Get(cpu), XsaveLab.Kernel.Variants.KernelVariants.Get(variant));
        var spec = new WorkloadSpec { Cpus = 2, PingPongPairs = 2, Vcpus = 2, AmxUsers = 1, IdleTasks = 3, WideVectors = true, VcpuExitsPerSecond = 20_000 };
        if (!sys.XsaveEnabled)
        {
            Assert.Throws<NotSupportedException>(() => new Simulator(sys, spec));
            return;
        }
        var s = new Simulator(sys, spec).Run(3000);
        Assert.True(s.Faults == 0, $"{cpu}/{variant}: {s.FirstFault}");
        Assert.Equal(3000, s.Switches);
        Assert.True(s.VcpuExits > 0);
    }
}
