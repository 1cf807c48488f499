namespace XsaveLab.Arch.Features;

/// <summary>CPU features that decide XSAVE behaviour; each maps to one CPUID bit (<see cref="CpuFeatureBits"/>).</summary>
public enum CpuFeature : byte
{
    /// <summary>Always-true pseudo feature for components that need no gate (x87 in the kernel's table).</summary>
    None,
    Fpu,
    Fxsr,
    Sse,
    Avx,
    Xsave,
    OsXsave,
    Mpx,
    Avx512F,
    IntelPt,
    Pku,
    OsPke,
    Enqcmd,
    Shstk,
    Ibt,
    ArchLbr,
    AmxTile,
    Apx,
    Xsaveopt,
    Xsavec,
    Xgetbv1,
    Xsaves,
    Xfd,
    XsaveErPtr,
    LongMode,
}

/// <summary>Register of a CPUID leaf.</summary>
public enum CpuidRegister : byte
{
    Eax,
    Ebx,
    Ecx,
    Edx,
}

/// <summary>Where a <see cref="CpuFeature"/> lives in CPUID.</summary>
public readonly record struct CpuFeatureBit(uint Leaf, uint Subleaf, CpuidRegister Register, int Bit);

/// <summary>The CPUID location of every <see cref="CpuFeature"/>.</summary>
/// <remarks>SDM Vol.2A CPUID tables; AMD APM Vol.3 for 0x80000008.EBX[2] (XSaveErPtr); the kernel's
/// arch/x86/include/asm/cpufeatures.h gives the same bits.</remarks>
public static class CpuFeatureBits
{
    public static CpuFeatureBit Of(CpuFeature feature) => feature switch
    {
        CpuFeature.Fpu => new(0x1, 0, CpuidRegister.Edx, 0),
        CpuFeature.Fxsr => new(0x1, 0, CpuidRegister.Edx, 24),
        CpuFeature.Sse => new(0x1, 0, CpuidRegister.Edx, 25),
        CpuFeature.Xsave => new(0x1, 0, CpuidRegister.Ecx, 26),
        CpuFeature.OsXsave => new(0x1, 0, CpuidRegister.Ecx, 27),
        CpuFeature.Avx => new(0x1, 0, CpuidRegister.Ecx, 28),
        CpuFeature.Mpx => new(0x7, 0, CpuidRegister.Ebx, 14),
        CpuFeature.Avx512F => new(0x7, 0, CpuidRegister.Ebx, 16),
        CpuFeature.IntelPt => new(0x7, 0, CpuidRegister.Ebx, 25),
        CpuFeature.Pku => new(0x7, 0, CpuidRegister.Ecx, 3),
        CpuFeature.OsPke => new(0x7, 0, CpuidRegister.Ecx, 4),
        CpuFeature.Shstk => new(0x7, 0, CpuidRegister.Ecx, 7),
        CpuFeature.Enqcmd => new(0x7, 0, CpuidRegister.Ecx, 29),
        CpuFeature.ArchLbr => new(0x7, 0, CpuidRegister.Edx, 19),
        CpuFeature.Ibt => new(0x7, 0, CpuidRegister.Edx, 20),
        CpuFeature.AmxTile => new(0x7, 0, CpuidRegister.Edx, 24),
        CpuFeature.Apx => new(0x7, 1, CpuidRegister.Edx, 21),
        CpuFeature.Xsaveopt => new(0xD, 1, CpuidRegister.Eax, 0),
        CpuFeature.Xsavec => new(0xD, 1, CpuidRegister.Eax, 1),
        CpuFeature.Xgetbv1 => new(0xD, 1, CpuidRegister.Eax, 2),
        CpuFeature.Xsaves => new(0xD, 1, CpuidRegister.Eax, 3),
        CpuFeature.Xfd => new(0xD, 1, CpuidRegister.Eax, 4),
        CpuFeature.XsaveErPtr => new(0x80000008, 0, CpuidRegister.Ebx, 2),
        CpuFeature.LongMode => new(0x80000001, 0, CpuidRegister.Edx, 29),
        _ => throw new ArgumentOutOfRangeException(nameof(feature), feature, "feature has no CPUID bit"),
    };
}

/// <summary>How a <see cref="CpuFeature"/> is written in messages: the SDM's CPUID notation with the kernel's
/// X86_FEATURE_ name (arch/x86/include/asm/cpufeatures.h).</summary>
public static class CpuFeatureNames
{
    /// <summary>The X86_FEATURE_ suffix, e.g. <c>PKU</c>, <c>AMX_TILE</c>.</summary>
    public static string KernelName(CpuFeature feature) => feature switch
    {
        CpuFeature.IntelPt => "INTEL_PT",
        CpuFeature.ArchLbr => "ARCH_LBR",
        CpuFeature.AmxTile => "AMX_TILE",
        CpuFeature.Avx512F => "AVX512F",
        CpuFeature.XsaveErPtr => "XSAVEERPTR",
        CpuFeature.LongMode => "LM",
        _ => feature.ToString().ToUpperInvariant(),
    };

    /// <summary>e.g. <c>CPUID.(EAX=0x7,ECX=0):ECX.PKU[bit 3]</c>.</summary>
    public static string Cpuid(CpuFeature feature)
    {
        var b = CpuFeatureBits.Of(feature);
        return string.Create(CultureInfo.InvariantCulture,
            $"CPUID.(EAX=0x{b.Leaf:x},ECX={b.Subleaf}):{b.Register.ToString().ToUpperInvariant()}.{KernelName(feature)}[bit {b.Bit}]");
    }
}
