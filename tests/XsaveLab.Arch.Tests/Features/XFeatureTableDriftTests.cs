namespace XsaveLab.Arch.Tests.Features;

/// <summary>The <see cref="XFeature"/> enum and the <see cref="XFeatureMasks"/> constants are kept by hand next to
/// <see cref="XFeatureTable"/>; these tests derive each of them from the table and fail when one drifts (a row
/// added without its enum member, a renumbered member, a mask that forgets or gains a component).</summary>
public class XFeatureTableDriftTests
{
    private static string Hex(ulong v) => $"0x{v:x}";

    [Fact]
    public void Table_rows_are_numbered_0_to_Count_minus_1_in_order()
    {
        Assert.Equal(XFeatureTable.Count, XFeatureTable.All.Count);
        for (int i = 0; i < XFeatureTable.All.Count; i++)
            Assert.True(XFeatureTable.All[i].Number == i, $"table row {i} claims number {XFeatureTable.All[i].Number}: rows must be in component order");
    }

    [Fact]
    public void Every_table_row_has_the_XFeature_member_of_the_same_number_and_name()
    {
        foreach (var f in XFeatureTable.All)
        {
            Assert.True(Enum.IsDefined((XFeature)f.Number), $"table row {f.Number} ({f.KernelName}) has no XFeature member: add XFeature.{f.Name} = {f.Number}");
            Assert.True(f.Name == Enum.GetName((XFeature)f.Number),
                $"XFeature {f.Number} is named {Enum.GetName((XFeature)f.Number)} but the table row says {f.Name}");
        }
    }

    [Fact]
    public void Every_XFeature_member_has_a_table_row()
    {
        foreach (var v in Enum.GetValues<XFeature>())
            Assert.True((int)v < XFeatureTable.Count && XFeatureTable.Get(v).Name == v.ToString(),
                $"XFeature.{v} = {(int)v} has no table row of that number and name: the enum drifted from XFeatureTable");
    }

    [Fact]
    public void Single_component_masks_equal_the_table_bit_of_the_feature_they_are_named_after()
    {
        var consts = typeof(XFeatureMasks).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(ulong)).ToDictionary(f => f.Name, f => (ulong)f.GetRawConstantValue()!);
        int checkedCount = 0;
        foreach (var f in XFeatureTable.All)
        {
            if (!consts.TryGetValue(f.Name, out ulong mask))
                continue;
            checkedCount++;
            Assert.True(mask == f.Mask, $"XFeatureMasks.{f.Name} = {Hex(mask)} but the table puts {f.Name} at bit {f.Number} ({Hex(f.Mask)})");
        }
        // Every numbered, named feature the kernel supports has its constant (reserved numbers need none).
        foreach (var f in XFeatureTable.All.Where(f => f.KernelSupported || f.LinuxClass == XFeatureLinuxClass.Independent))
            Assert.True(consts.ContainsKey(f.Name), $"XFeatureMasks has no constant {f.Name} for table row {f.Number}");
        Assert.True(checkedCount >= 17, $"only {checkedCount} single-bit masks matched table names: were constants renamed?");
    }

    public static TheoryData<string, ulong, ulong> GroupMasks() => new()
    {
        { nameof(XFeatureMasks.UserSupported), XFeatureMasks.UserSupported, XFeatureTable.MaskOf(f => f.LinuxClass == XFeatureLinuxClass.UserSupported) },
        { nameof(XFeatureMasks.SupervisorSupported), XFeatureMasks.SupervisorSupported,
            XFeatureTable.MaskOf(f => f.LinuxClass is XFeatureLinuxClass.SupervisorSupported or XFeatureLinuxClass.SupervisorGuestOnly) },
        { nameof(XFeatureMasks.GuestSupervisor), XFeatureMasks.GuestSupervisor, XFeatureTable.MaskOf(f => f.LinuxClass == XFeatureLinuxClass.SupervisorGuestOnly) },
        { nameof(XFeatureMasks.Independent), XFeatureMasks.Independent, XFeatureTable.MaskOf(f => f.LinuxClass == XFeatureLinuxClass.Independent) },
        { nameof(XFeatureMasks.UserDynamic), XFeatureMasks.UserDynamic, XFeatureTable.MaskOf(f => f.Dynamic) },
        { nameof(XFeatureMasks.ArchitecturalUser), XFeatureMasks.ArchitecturalUser, XFeatureTable.MaskOf(f => f.Register == StateRegister.Xcr0) },
        { nameof(XFeatureMasks.ArchitecturalSupervisor), XFeatureMasks.ArchitecturalSupervisor, XFeatureTable.MaskOf(f => f.Register == StateRegister.Xss) },
        { nameof(XFeatureMasks.FpSse), XFeatureMasks.FpSse, XFeatureTable.MaskOf(f => f.IsLegacy) },
        { nameof(XFeatureMasks.Mpx), XFeatureMasks.Mpx, XFeatureTable.MaskOf(f => f.Gate == CpuFeature.Mpx) },
        { nameof(XFeatureMasks.Avx512), XFeatureMasks.Avx512, XFeatureTable.MaskOf(f => f.Gate == CpuFeature.Avx512F) },
        { nameof(XFeatureMasks.Xtile), XFeatureMasks.Xtile, XFeatureTable.MaskOf(f => f.Gate == CpuFeature.AmxTile) },
        { nameof(XFeatureMasks.Extend), XFeatureMasks.Extend, ~(XFeatureTable.MaskOf(f => f.IsLegacy) | XFeatureMasks.CompactedFormat) },
        { nameof(XFeatureMasks.UserRestore), XFeatureMasks.UserRestore,
            XFeatureTable.MaskOf(f => f.LinuxClass == XFeatureLinuxClass.UserSupported && f.Name != nameof(XFeature.Pkru)) },
        { nameof(XFeatureMasks.SigframeInitOpt), XFeatureMasks.SigframeInitOpt,
            XFeatureTable.MaskOf(f => f.Gate == CpuFeature.AmxTile || f.Dynamic) },
    };

    [Theory]
    [MemberData(nameof(GroupMasks))]
    public void Group_mask_constant_equals_its_derivation_from_the_table(string name, ulong constant, ulong fromTable) =>
        Assert.True(constant == fromTable,
            $"XFeatureMasks.{name} = {Hex(constant)} ({XFeatureTable.Describe(constant)}) but the table gives {Hex(fromTable)} ({XFeatureTable.Describe(fromTable)}): the constant and the table drifted");

    [Fact]
    public void User_and_supervisor_components_partition_the_table()
    {
        ulong all = XFeatureTable.MaskOf(_ => true);
        Assert.Equal(0UL, XFeatureMasks.ArchitecturalUser & XFeatureMasks.ArchitecturalSupervisor);
        Assert.True(all == (XFeatureMasks.ArchitecturalUser | XFeatureMasks.ArchitecturalSupervisor), "every table row is either an XCR0 or an IA32_XSS component");
        Assert.True(XFeatureMasks.IsSubset(XFeatureMasks.UserSupported, XFeatureMasks.ArchitecturalUser), "a Linux user feature must be an XCR0 component");
        Assert.True(XFeatureMasks.IsSubset(XFeatureMasks.SupervisorSupported | XFeatureMasks.Independent, XFeatureMasks.ArchitecturalSupervisor),
            "a Linux supervisor feature must be an IA32_XSS component");
    }

    [Fact]
    public void Names_are_unique_and_kernel_names_follow_the_XFEATURE_prefix()
    {
        foreach (var sel in new Func<XFeatureInfo, string>[] { f => f.Name, f => f.KernelName, f => f.ShortName, f => f.SdmName })
        {
            var dup = XFeatureTable.All.GroupBy(sel).FirstOrDefault(g => g.Count() > 1);
            Assert.True(dup is null, $"name {dup?.Key} is used by more than one row");
        }
        Assert.All(XFeatureTable.All, f => Assert.StartsWith("XFEATURE_", f.KernelName));
    }

    [Fact]
    public void Registers_of_each_component_are_in_order_do_not_overlap_and_fit_its_size()
    {
        foreach (var f in XFeatureTable.All.Where(f => !f.IsOpaque))
        {
            int end = f.IsLegacy ? (f.Number == 0 ? XsaveOffsets.X87Size : XsaveOffsets.Padding) : f.ArchitecturalSize!.Value;
            int at = f.Registers[0].Offset;
            foreach (var r in f.Registers)
            {
                Assert.True(r.Offset >= at, $"{f.ShortName} {r.Name} at {r.Offset} overlaps or precedes the previous register (ends at {at})");
                at = r.Offset + r.Bytes;
            }
            Assert.True(at <= end, $"{f.ShortName}: its registers end at byte {at}, past the component's {end}");
        }
    }

    [Fact]
    public void Extended_components_with_full_width_registers_are_exactly_filled_by_them()
    {
        // AVX, MPX bounds, AVX-512, CET, AMX tile data and APX hold nothing but their registers (SDM Vol.1 §13.5),
        // so the sum of the register widths is the component size; a wrong width or count shows here.
        foreach (var f in XFeatureTable.All.Where(f => !f.IsLegacy && !f.IsOpaque && f.Number is not ((int)XFeature.BndCsr or (int)XFeature.Pkru or (int)XFeature.Pasid)))
            Assert.True(f.Registers.Sum(r => r.Bytes) == f.ArchitecturalSize,
                $"{f.ShortName}: registers hold {f.Registers.Sum(r => r.Bytes)} bytes, the component {f.ArchitecturalSize}");
    }

    [Fact]
    public void Legacy_registers_are_where_the_geometry_puts_them()
    {
        var x87 = XFeatureTable.Get(XFeature.Fp).Registers.ToDictionary(r => r.Name);
        var sse = XFeatureTable.Get(XFeature.Sse).Registers.ToDictionary(r => r.Name);
        Assert.Equal(XsaveOffsets.Fcw, x87["FCW"].Offset);
        Assert.Equal(XsaveOffsets.Fdp, x87["FDP"].Offset);
        for (int i = 0; i < XsaveOffsets.StCount; i++)
            Assert.Equal(XsaveOffsets.St(i), x87[$"ST{i}"].Offset);
        Assert.Equal(XsaveOffsets.Mxcsr, sse["MXCSR"].Offset);
        Assert.Equal(XsaveOffsets.MxcsrMask, sse["MXCSR_MASK"].Offset);
        for (int i = 0; i < XsaveOffsets.XmmCount; i++)
            Assert.Equal(XsaveOffsets.Xmm(i), sse[$"XMM{i}"].Offset);
        // The x87 environment ends where MXCSR starts, and the ST and XMM spaces are the sizes of their registers.
        Assert.Equal(XsaveOffsets.Mxcsr, x87["FDP"].Offset + x87["FDP"].Bytes);
        Assert.Equal(XsaveOffsets.StSpaceSize, XsaveOffsets.StCount * XsaveOffsets.StStride);
        Assert.Equal(XsaveOffsets.XmmSpaceSize, sse.Values.Where(r => r.Name.StartsWith("XMM")).Sum(r => r.Bytes));
        Assert.Equal(XFeatureTable.Get(XFeature.Sse).ArchitecturalSize, XsaveOffsets.XmmSpaceSize);
        Assert.Equal(XFeatureTable.Get(XFeature.Fp).ArchitecturalSize, XsaveOffsets.X87Size);
    }

    [Fact]
    public void Geometry_regions_tile_the_legacy_region_and_header_without_gaps()
    {
        (int Start, int Size)[] regions =
        [
            (XsaveOffsets.Fcw, XsaveOffsets.FpEnvSize), (XsaveOffsets.Mxcsr, XsaveOffsets.MxcsrAndFlagsSize),
            (XsaveOffsets.StSpace, XsaveOffsets.StSpaceSize), (XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize),
            (XsaveOffsets.Padding, XsaveOffsets.PaddingSize), (XsaveOffsets.SwReserved, XsaveOffsets.SwReservedSize),
            (XsaveOffsets.XstateBv, 8), (XsaveOffsets.XcompBv, 8), (XsaveOffsets.HeaderReserved, XsaveOffsets.HeaderReservedSize),
        ];
        int at = 0;
        foreach (var (start, size) in regions)
        {
            Assert.True(start == at, $"region at {start} should start at {at}");
            at = start + size;
        }
        Assert.Equal(XsaveOffsets.ExtendedStart, at);
        Assert.Equal(XsaveOffsets.LegacySize, XsaveOffsets.Header);
        Assert.Equal(XsaveOffsets.Header + XsaveOffsets.HeaderSize, XsaveOffsets.ExtendedStart);
    }
}
