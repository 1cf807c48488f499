namespace XsaveLab.Host.Tests.Linux;

/// <summary>The seeded images a child loads with XRSTOR are valid by the one definition of valid XSAVE data:
/// header, MXCSR (against the model CPU's MXCSR_MASK) and every loaded component.</summary>
public class SeededImageRulesTests
{
    [Fact]
    public void Seeded_images_on_every_catalog_cpu_satisfy_the_xsave_data_rules()
    {
        int images = 0;
        foreach (var cpu in CpuCatalog.All.Where(c => c.HasXsave))
        {
            ulong features = cpu.SupportedXcr0 & XFeatureMasks.UserSupported;
            var layout = new UserXstateLayout(features, i => cpu.Component(i) is { StandardOffset: int off } c ? (off, c.Size) : (0, 0));
            for (ulong seed = 0; seed < 50; seed++)
            {
                var img = SeededXstateImage.Build(seed, layout).Image;
                images++;
                var header = img.AsSpan(XsaveOffsets.Header, XsaveOffsets.HeaderSize);
                Assert.Null(XsaveDataRules.XrstorHeaderViolation(header, features, features, cpu.HasXsavec, xrstors: false));
                uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(XsaveOffsets.Mxcsr));
                Assert.False(XsaveDataRules.MxcsrHasReservedBits(mxcsr, new XsaveCpu(cpu).MxcsrMask), $"{cpu.Name} seed {seed}: MXCSR 0x{mxcsr:x}");
                ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(header);
                for (int i = 2; i < 63; i++)
                    if ((bv >> i & 1) != 0)
                    {
                        var (off, size) = layout.Component(i);
                        Assert.True(XsaveDataRules.ComponentViolation(i, img.AsSpan(off, size), 48) is null, $"{cpu.Name} seed {seed}: component {i}");
                    }
            }
        }
        Assert.True(images > 0);
    }
}
