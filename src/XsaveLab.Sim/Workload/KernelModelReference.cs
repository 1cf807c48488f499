namespace XsaveLab.Sim.Workload;

/// <summary>context_switch1 run through the kernel model's own task objects (<see cref="LinuxKernel"/>:
/// SpawnProcess, Schedule, Block, Wake, UseComponent) instead of the simulator's struct-of-arrays tasks. Used to
/// check that the simulator follows the kernel model switch for switch, and to weigh the model's per-task
/// objects.</summary>
public static class KernelModelReference
{
    public sealed record Run(LinuxKernel Kernel, KernelTask A, KernelTask B, long Switches);

    /// <summary>One pair on CPU 0 for <paramref name="switches"/> switches between A and B, in the simulator's
    /// order: A runs first; each task writes <paramref name="inUse"/> on its first run; a task that blocks is
    /// switched out and its partner scheduled.</summary>
    public static Run PingPong(FpuSystem sys, ulong inUse, long switches, XsaveCpuOptions? options = null)
    {
        var k = new LinuxKernel(sys, 1, options);
        var a = k.SpawnProcess("context_switch1");
        var b = k.SpawnProcess("context_switch1-partner");
        var patterns = ComponentPatterns.For(sys);
        bool aStarted = false, bStarted = false;
        void Touch(KernelTask t)
        {
            for (ulong m = inUse; m != 0; m &= m - 1)
            {
                int i = System.Numerics.BitOperations.TrailingZeroCount(m);
                if (patterns[i] is { } d)
                    k.UseComponent(t, i, d);
            }
        }
        k.Schedule(0, a);
        long done = 0;
        var cur = a;
        while (done < switches)
        {
            if (cur == a && !aStarted) { Touch(a); aStarted = true; }
            if (cur == b && !bStarted) { Touch(b); bStarted = true; }
            var next = cur == a ? b : a;
            k.Block(cur);
            k.Wake(cur);
            k.Schedule(0, next);
            cur = next;
            done++;
        }
        return new Run(k, a, b, done);
    }

    public sealed record VcpuRun(LinuxKernel Kernel, KernelTask[] Threads, Kernel.Guest.FpuGuest[] Guests);

    /// <summary>vCPU threads sharing CPU 0 through the kernel model's guest API, in the simulator's order: each
    /// thread, on its first slice, writes <paramref name="hostInUse"/>, enters KVM_RUN
    /// (<c>fpu_swap_kvm_fpstate(enter)</c>) and the guest writes <paramref name="guestInUse"/>; then the threads are
    /// preempted round-robin while in the guest for <paramref name="switches"/> switches.</summary>
    public static VcpuRun Vcpus(FpuSystem sys, int count, ulong hostInUse, ulong guestInUse, long switches)
    {
        var k = new LinuxKernel(sys, 1);
        var patterns = ComponentPatterns.For(sys);
        var threads = new KernelTask[count];
        var guests = new Kernel.Guest.FpuGuest[count];
        for (int i = 0; i < count; i++)
        {
            threads[i] = k.SpawnProcess($"vcpu{i}");
            guests[i] = k.FpuAllocGuestFpstate(threads[i]);
        }
        void Touch(KernelTask t, ulong mask)
        {
            for (ulong m = mask; m != 0; m &= m - 1)
            {
                int i = System.Numerics.BitOperations.TrailingZeroCount(m);
                if (patterns[i] is { } d)
                    k.UseComponent(t, i, d);
            }
        }
        var started = new bool[count];
        long done = 0;
        for (int cur = 0; ; cur = (cur + 1) % count)
        {
            k.Schedule(0, threads[cur]);
            if (!started[cur])
            {
                started[cur] = true;
                Touch(threads[cur], hostInUse);
                k.FpuSwapKvmFpstate(threads[cur], guests[cur], enterGuest: true);
                Touch(threads[cur], guestInUse);
            }
            if (done++ >= switches)
                break;
        }
        return new VcpuRun(k, threads, guests);
    }

    /// <summary>Managed bytes per process of the kernel model (task, fpu, fpstate and its buffer, thread group),
    /// measured over <paramref name="count"/> spawned processes.</summary>
    public static double BytesPerSpawnedProcess(FpuSystem sys, int count)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var k = new LinuxKernel(sys, 1);
        for (int i = 0; i < count; i++)
            k.SpawnProcess("t");
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(k);
        return (after - before) / (double)Math.Max(1, count);
    }
}
