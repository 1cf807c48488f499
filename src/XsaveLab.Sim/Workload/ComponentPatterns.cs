using System.Buffers.Binary;
using XsaveLab.Arch.Features;
using XsaveLab.Kernel.Boot;

namespace XsaveLab.Sim.Workload;

/// <summary>The register images simulated user code writes to put a component in use: non-zero data that is
/// valid for the component (x87 keeps its control words, PKRU keeps key 0 accessible, XTILECFG names palette 1).</summary>
public static class ComponentPatterns
{
    public static byte[]?[] For(FpuSystem sys)
    {
        var result = new byte[]?[64];
        var probe = sys.CreateCpu();
        ulong all = (sys.Xcr0 | sys.Xss) & probe.Enumerated;
        for (int i = 0; i < 63; i++)
        {
            if ((all >> i & 1) == 0)
                continue;
            var data = probe.Read(i).ToArray();
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
                default:
                    for (int b = 0; b < data.Length; b++)
                        data[b] = (byte)(i * 17 + b % 239 + 1);
                    break;
            }
            result[i] = data;
        }
        return result;
    }
}
