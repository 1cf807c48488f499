namespace XsaveLab.Host.Interop;

/// <summary>CPU affinity of the calling thread through a 1024-CPU <c>cpu_set_t</c>.</summary>
internal static unsafe class Affinity
{
    private const int MaskWords = 16, MaxCpus = MaskWords * 64;

    /// <summary>Pins the calling thread to one CPU; returns 0 or errno (EINVAL = 22 for a CPU outside the set).</summary>
    public static int PinCurrentThread(int cpu)
    {
        if (cpu < 0 || cpu >= MaxCpus)
            return 22;
        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        return Libc.sched_setaffinity(0, MaskWords * sizeof(ulong), mask) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>CPUs the calling thread may run on.</summary>
    public static int[] AllowedCpus()
    {
        ulong* mask = stackalloc ulong[MaskWords];
        if (Libc.sched_getaffinity(0, MaskWords * sizeof(ulong), mask) != 0)
            return [];
        var cpus = new List<int>();
        for (int i = 0; i < MaxCpus; i++)
            if ((mask[i / 64] >> (i % 64) & 1) != 0)
                cpus.Add(i);
        return cpus.ToArray();
    }
}
