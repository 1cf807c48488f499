using System.Runtime.Intrinsics.X86;
using XsaveLab.Arch.Cpuid;

namespace XsaveLab.Host.Tests.Native;

/// <summary>A <see cref="CpuProfile"/> of the processor running the tests, read with CPUID.</summary>
internal static class HostCpuidProfile
{
    public static CpuProfile Read()
    {
        var leaves = new List<CpuidLeaf>();
        void Add(uint leaf, uint sub)
        {
            var (a, b, c, d) = X86Base.CpuId(unchecked((int)leaf), (int)sub);
            leaves.Add(new CpuidLeaf(leaf, sub, (uint)a, (uint)b, (uint)c, (uint)d));
        }
        uint max = (uint)X86Base.CpuId(0, 0).Eax;
        Add(0, 0);
        Add(1, 0);
        if (max >= 7)
        {
            Add(7, 0);
            Add(7, 1);
        }
        if (max >= 0xD)
            for (uint i = 0; i < 64; i++)
                Add(0xD, i);
        uint emax = (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax;
        Add(0x80000000, 0);
        for (uint l = 0x80000001; l <= Math.Min(emax, 0x80000008u); l++)
            Add(l, 0);
        return new CpuProfile("host", "cpuid", leaves);
    }
}
