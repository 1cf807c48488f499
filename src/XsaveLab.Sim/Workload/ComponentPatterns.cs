namespace XsaveLab.Sim.Workload;

/// <summary>The register images simulated user code writes to put a component in use: non-zero data that is
/// valid for the component (x87 keeps its control words, PKRU keeps key 0 accessible, XTILECFG names palette 1).</summary>
public static class ComponentPatterns
{
    /// <remarks>A component whose enumerated size is too small for the registers it architecturally holds (a
    /// damaged or hostile CPUID dump) gets no image: simulated code leaves it in its initial configuration.</remarks>
    public static byte[]?[] For(FpuSystem sys)
    {
        var result = new byte[]?[64];
        var probe = sys.CreateCpu();
        ulong all = (sys.Xcr0 | sys.Xss) & probe.Enumerated;
        for (int i = 0; i < 63; i++)
        {
            if ((all >> i & 1) == 0 || (i >= 2 && sys.FeatureSize(i) <= 0))
                continue;
            var data = probe.Read(i).ToArray();
            if (data.Length < MinimumSize(i))
                continue;
            switch (i)
            {
                case 0:
                    data[32] = 0x42; // ST0 mantissa byte: FCW/FSW stay valid
                    break;
                case (int)XFeature.Pkru:
                    BinaryPrimitives.WriteUInt32LittleEndian(data, 0x55555554); // init_pkru_value
                    break;
                case (int)XFeature.XtileCfg:
                    data[0] = 1; // palette 1
                    break;
                case (int)XFeature.CetUser:
                    // XRSTORS loads these as MSRs and faults on values WRMSR would refuse: IA32_U_CET with
                    // SHSTK_EN only, IA32_PL3_SSP canonical and 8-byte aligned (SDM Vol.1 §13.5.7, Vol.4 CET MSRs).
                    BinaryPrimitives.WriteUInt64LittleEndian(data, 1);
                    BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), 0x0000_7ffd_f000_0ff8);
                    break;
                case (int)XFeature.CetKernel:
                    // IA32_PL0/1/2_SSP: canonical kernel addresses, 8-byte aligned.
                    for (int k = 0; k < 3; k++)
                        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8 * k), 0xffff_c900_0000_1ff8UL - (ulong)k * 0x1000);
                    break;
                case (int)XFeature.Pasid:
                    BinaryPrimitives.WriteUInt32LittleEndian(data, 0x8000_0001); // IA32_PASID: valid bit + PASID 1
                    break;
                default:
                    for (int b = 0; b < data.Length; b++)
                        data[b] = (byte)(i * 17 + b % 239 + 1);
                    break;
            }
            result[i] = data;
        }
        return result;
    }

    /// <summary>Bytes the image of component <paramref name="i"/> writes into: ST0's mantissa byte, PKRU (4),
    /// palette byte of XTILECFG, IA32_U_CET + IA32_PL3_SSP (16), IA32_PL0/1/2_SSP (24), IA32_PASID (4);
    /// any non-empty size for the others.</summary>
    private static int MinimumSize(int i) => i switch
    {
        0 => 33,
        (int)XFeature.Pkru or (int)XFeature.Pasid => 4,
        (int)XFeature.CetUser => 16,
        (int)XFeature.CetKernel => 24,
        _ => 1,
    };
}
