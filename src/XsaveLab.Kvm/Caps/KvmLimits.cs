namespace XsaveLab.Kvm.Caps;

/// <summary>The XSAVE geometry the KVM model accepts from a CPU profile before it allocates anything from it. The
/// model sizes the host and guest fpstates, the KVM_GET_XSAVE2 image and every snapshot from CPUID leaf 0xD, so a
/// profile claiming huge sizes would be really allocated several times over. The bounds are far above any real
/// processor (the largest XSAVE area today, with AMX, is about 12 KiB: CPUID 0xD.0 EBX).</summary>
public static class KvmLimits
{
    /// <summary>Largest size of one state component (CPUID 0xD.i EAX); AMX TILEDATA, the largest today, is 8 KiB.</summary>
    public const uint MaxComponentBytes = 1 << 20;

    /// <summary>Largest XSAVE area (0xD.0 EBX/ECX, 0xD.1 EBX, and every component's offset + size).</summary>
    public const uint MaxAreaBytes = 4 << 20;

    /// <summary>Why the model refuses <paramref name="cpu"/>'s leaf 0xD, or null when every size is within bounds.</summary>
    public static string? Problem(CpuProfile cpu)
    {
        if (!cpu.HasLeafD)
            return null;
        var d0 = cpu.Leaf(0xD, 0);
        var d1 = cpu.Leaf(0xD, 1);
        if (d0.Ebx > MaxAreaBytes || d0.Ecx > MaxAreaBytes || d1.Ebx > MaxAreaBytes)
            return $"CPUID 0xd claims an XSAVE area of {Numbers.Bytes(Math.Max(Math.Max(d0.Ebx, d0.Ecx), d1.Ebx))}; the KVM model accepts at most {Numbers.Bytes(MaxAreaBytes)}";
        ulong all = cpu.SupportedXcr0 | cpu.SupportedXss;
        for (uint i = 2; i < 63; i++)
        {
            if ((all >> (int)i & 1) == 0)
                continue;
            var c = cpu.Leaf(0xD, i);
            if (c.Eax > MaxComponentBytes)
                return $"CPUID 0xd.{i} claims a {Numbers.Int(c.Eax)}-byte component; the KVM model accepts at most {Numbers.Bytes(MaxComponentBytes)} per component";
            if ((ulong)c.Ebx + c.Eax > MaxAreaBytes)
                return $"CPUID 0xd.{i} places its component at offset {Numbers.Int(c.Ebx)}; the KVM model accepts areas of at most {Numbers.Bytes(MaxAreaBytes)}";
        }
        return null;
    }
}
