namespace XsaveLab.Kernel.Boot;

/// <summary>One variant's costs on one CPU.</summary>
/// <param name="Variant">Variant name.</param>
/// <param name="TaskBytes">Per-task fpstate buffer (kernel default size).</param>
/// <param name="VcpuBytes">A new vCPU's guest fpstate.</param>
/// <param name="VcpuBytesWithCet">A vCPU's guest fpstate once the guest has CET (deferred: after reallocation).</param>
/// <param name="ContextSize">The boot log's "context size" (kernel max size).</param>
/// <param name="XssCetKernel">IA32_XSS has CET_KERNEL (bit 12).</param>
/// <param name="HostRfbmCetKernel">Host saves' RFBM includes bit 12.</param>
/// <param name="HostSaveBytes">Average component bytes stored per host context-switch save (pipe ping-pong, SSE+AVX in use).</param>
/// <param name="HostSaveFootprint">Buffer size each host save targets.</param>
/// <param name="GuestSaveBytes">Average bytes stored per save of a vCPU's guest fpstate (guest exits with CET_S non-init when the CPU has it).</param>
public sealed record VariantCost(string Variant, int TaskBytes, int VcpuBytes, int VcpuBytesWithCet, int ContextSize, bool XssCetKernel,
    bool HostRfbmCetKernel, double HostSaveBytes, int HostSaveFootprint, double GuestSaveBytes);

/// <summary>All variants side by side on one CPU: bytes per task, per vCPU, per save — measured by running the
/// model (a will-it-scale context_switch1-like ping-pong, and a vCPU entering and leaving its guest fpstate).</summary>
public sealed record VariantComparison(string Cpu, IReadOnlyList<VariantCost> Rows)
{
    public static VariantComparison Measure(CpuProfile cpu, IEnumerable<KernelVariant>? variants = null, BootOptions? options = null, int rounds = 50)
    {
        var rows = new List<VariantCost>();
        foreach (var v in variants ?? KernelVariants.Main)
            rows.Add(MeasureOne(FpuSystem.Boot(cpu, v, options), rounds));
        return new VariantComparison(cpu.Name, rows);
    }

    private static VariantCost MeasureOne(FpuSystem sys, int rounds)
    {
        var k = new LinuxKernel(sys, 1);
        var rnd = new Random(1);
        var a = k.SpawnProcess("writer");
        var b = k.SpawnProcess("reader");
        int[] comps = sys.XsaveEnabled ? [(int)XFeature.Sse, (int)XFeature.Ymm] : [(int)XFeature.Sse];
        comps = comps.Where(c => c < 2 || (sys.Xcr0 >> c & 1) != 0).ToArray();
        void Touch(KernelTask t)
        {
            foreach (int c in comps)
            {
                var d = new byte[sys.FeatureSize(c)];
                rnd.NextBytes(d);
                k.UseComponent(t, c, d);
            }
        }
        k.Schedule(0, a);
        Touch(a);
        k.Schedule(0, b);
        Touch(b);
        k.Counters.Reset();
        for (int i = 0; i < rounds; i++)
        {
            k.Schedule(0, a);
            Touch(a);
            k.Schedule(0, b);
            Touch(b);
        }
        double hostSave = k.Counters.Saves == 0 ? 0 : (double)k.Counters.SavedBytes / k.Counters.Saves;
        int footprint = k.Counters.Saves == 0 ? 0 : (int)(k.Counters.SaveFootprintBytes / k.Counters.Saves);

        // A vCPU thread entering and leaving its guest fpstate; a CET guest has non-init supervisor SSPs.
        var vcpu = k.SpawnProcess("vcpu");
        k.Schedule(0, vcpu);
        var g = k.FpuAllocGuestFpstate(vcpu);
        int vcpuBytes = g.FpState!.Size;
        bool cet = (sys.KernelCfg.MaxFeatures & XFeatureMasks.CetKernel) != 0;
        if (cet && sys.Variant.DeferredGuestSupervisor)
            k.FpuEnableGuestXfdFeatures(vcpu, g, XFeatureMasks.CetKernel);
        int vcpuWithCet = g.FpState!.Size;
        k.Counters.Reset();
        long guestSaves = 0, guestBytes = 0;
        for (int i = 0; i < rounds; i++)
        {
            k.FpuSwapKvmFpstate(vcpu, g, enterGuest: true);
            Touch(vcpu);
            if (cet && (g.FpState.Xfeatures & XFeatureMasks.CetKernel) != 0)
            {
                var kc = k.Cpus[0];
                kc.Cpu.Cpl = 0;
                kc.Cpu.Wrmsr(Arch.Machine.Msr.IA32_PL0_SSP, 0xffff_8880_0000_1000UL + (ulong)i * 8);
            }
            long before = k.Counters.SavedBytes, saves = k.Counters.Saves;
            k.FpuSwapKvmFpstate(vcpu, g, enterGuest: false);
            guestBytes += k.Counters.SavedBytes - before;
            guestSaves += k.Counters.Saves - saves;
        }
        return new VariantCost(sys.Variant.Name, sys.KernelCfg.DefaultSize, vcpuBytes, vcpuWithCet, sys.KernelCfg.MaxSize,
            (sys.Xss & XFeatureMasks.CetKernel) != 0, (sys.KernelCfg.DefaultFeatures & XFeatureMasks.CetKernel) != 0,
            hostSave, footprint, guestSaves == 0 ? 0 : (double)guestBytes / guestSaves);
    }
}
