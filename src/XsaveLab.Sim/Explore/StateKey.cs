using XsaveLab.Kvm;
using XsaveLab.Kvm.Caps;
using XsaveLab.Kvm.Guest;
using XsaveLab.Kvm.Script;
using XsaveLab.Kvm.Vm;

namespace XsaveLab.Sim.Explore;

/// <summary>The canonical form of an explored state: everything the FPU core, KVM and the invariants read (task
/// states, permissions, fpstate shapes and header bits, register ownership, XFD, vCPU configuration and guest
/// fpstates), with tasks named by creation order and register contents abstracted to XINUSE/XSTATE_BV (every
/// action writes the same data). Hashed to 128 bits (two independent 64-bit mixes) without allocation.</summary>
public sealed class StateKey
{
    private readonly List<ulong> _v = new(256);
    private KvmVcpu[] _vcpus = new KvmVcpu[4];

    /// <summary>The 128-bit key of <paramref name="r"/>'s state.</summary>
    public (ulong, ulong) Of(VmmRunner r)
    {
        _v.Clear();
        var sys = r.System!;
        var k = sys.Kernel;
        var tasks = r.Tasks;
        foreach (var t in tasks)
        {
            var fpu = t.Fpu;
            Add((ulong)t.State | (ulong)(uint)(t.OnCpu + 1) << 8 | (t.NeedFpuLoad ? 1UL << 16 : 0) | (ulong)(uint)(fpu.LastCpu + 1) << 24
                | (ulong)(uint)IndexOf(tasks, t.Leader) << 32 | (ulong)(uint)t.Guests.Count << 48);
            if (t.State == TaskState.Dead)
                continue;
            Add(t.SasSsSize);
            Add(t.Pkru);
            Perm(fpu.Perm);
            Perm(fpu.GuestPerm);
            Fps(fpu.FpState, fpu.FpState == fpu.EmbeddedFpState);
            if (fpu.TaskFpState is { } host)
                Fps(host, host == fpu.EmbeddedFpState);
            if (r.PendingFrame(t) is { } frame)
                Add((ulong)frame.Length << 32 ^ (frame.Length >= XsaveOffsets.ExtendedStart ? BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(XsaveOffsets.XstateBv)) : 0));
            else
                Add(ulong.MaxValue);
        }
        foreach (var kc in k.Cpus)
        {
            Add((uint)IndexOf(tasks, kc.Current) | (ulong)(uint)OwnerIndex(tasks, kc.FpregsOwnerCtx) << 16);
            Add(kc.XfdState);
            Add(kc.Cpu.Xfd);
            Add(kc.Cpu.XinUse);
            Add(kc.Cpu.Xcr0);
            Add(kc.Cpu.Xss);
        }
        Add((ulong)k.Warnings.Count << 32 | (uint)k.Violations.Count);
        if (r.Vm is { } vm)
        {
            // By id (the dictionary's order depends on its history of removals), sorted in a reused buffer.
            int n = 0;
            foreach (var x in vm.Vcpus)
            {
                if (n == _vcpus.Length)
                    Array.Resize(ref _vcpus, n * 2);
                int i = n++;
                for (; i > 0 && _vcpus[i - 1].Id > x.Id; i--)
                    _vcpus[i] = _vcpus[i - 1];
                _vcpus[i] = x;
            }
            for (int j = 0; j < n; j++)
            {
                var v = _vcpus[j];
                Add((uint)v.Id | (v.HasRun ? 1UL << 16 : 0) | (v.Cr4OsXsave ? 1UL << 17 : 0) | (ulong)(uint)v.Fpu.UabiSize << 32);
                Add(v.Xcr0);
                Add(v.Ia32Xss);
                Add(v.GuestSupportedXcr0);
                Add(v.GuestSupportedXss);
                Add(v.Fpu.Xfeatures);
                Add(v.Fpu.XfdErr);
                if (v.Fpu.FpState is { } g)
                    Fps(g, false);
            }
        }
        Array.Clear(_vcpus);
        return Hash(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_v));
    }

    private void Add(ulong x) => _v.Add(x);

    private void Perm(FpuStatePerm p)
    {
        Add(p.StatePerm);
        Add((ulong)(uint)p.StateSize << 32 | (uint)p.UserStateSize);
    }

    private void Fps(FpState f, bool embedded)
    {
        Add((ulong)(uint)f.Size << 32 | (uint)f.UserSize);
        Add(f.Xfeatures);
        Add(f.UserXfeatures);
        Add(f.Xfd);
        Add(f.XstateBv);
        Add(f.XcompBv);
        Add((f.IsGuest ? 1UL : 0) | (f.InUse ? 2UL : 0) | (f.Freed ? 4UL : 0) | (embedded ? 8UL : 0) | (f.IsConfidential ? 16UL : 0));
    }

    private static int IndexOf(IReadOnlyList<KernelTask> tasks, KernelTask? t)
    {
        for (int i = 0; i < tasks.Count; i++)
            if (tasks[i] == t)
                return i + 1;
        return 0;
    }

    private static int OwnerIndex(IReadOnlyList<KernelTask> tasks, Fpu? f)
    {
        for (int i = 0; i < tasks.Count; i++)
            if (tasks[i].Fpu == f)
                return i + 1;
        return 0;
    }

    /// <summary>Two 64-bit hashes of <paramref name="v"/> (a multiply-xorshift mix with different seeds); deterministic
    /// across runs, unlike <see cref="HashCode"/>.</summary>
    public static (ulong, ulong) Hash(ReadOnlySpan<ulong> v)
    {
        ulong a = 0x9e3779b97f4a7c15UL ^ (ulong)v.Length, b = 0xc2b2ae3d27d4eb4fUL + (ulong)v.Length;
        foreach (ulong x in v)
        {
            a = Mix(a ^ x, 0xff51afd7ed558ccdUL);
            b = Mix(b + x, 0xc4ceb9fe1a85ec53UL);
        }
        return (a, b);
    }

    private static ulong Mix(ulong x, ulong m)
    {
        x *= m;
        x ^= x >> 33;
        x *= 0x94d049bb133111ebUL;
        return x ^ (x >> 29);
    }
}
