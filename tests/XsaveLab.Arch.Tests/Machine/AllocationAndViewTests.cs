namespace XsaveLab.Arch.Tests.Machine;

public class AllocationAndViewTests
{
    private const ulong At = 0x8000;

    [Fact]
    public void Instructions_do_not_allocate()
    {
        var cpu = TestCpus.Booted(TestCpus.Spr());
        TestCpus.Randomize(cpu, new Random(1), 0);
        var area = new byte[16384];
        void Round()
        {
            cpu.Xsavec(area, At, ~0UL);
            cpu.Xrstor(area, At, cpu.Xcr0);
            cpu.Xsaves(area, At, ~0UL);
            cpu.Xrstors(area, At, ~0UL);
            cpu.Xsaveopt(area, At + 0x10000, ~0UL);
            cpu.Xgetbv(1, out _);
            cpu.Xrstor(area, At + 1, ~0UL); // a fault is a value too
        }
        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            Round();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Area_view_finds_components_in_both_forms()
    {
        var p = TestCpus.Spr();
        var cpu = TestCpus.Booted(p);
        TestCpus.Randomize(cpu, new Random(2), 0);
        var a = new byte[16384];
        Assert.False(cpu.Xsavec(a, At, XFeatureMasks.FpSse | XFeatureMasks.Hi16Zmm | XFeatureMasks.XtileCfg).IsFault);
        var view = new XsaveArea(a);
        Assert.True(view.IsCompacted);
        int hi16 = XStateGeometry.Offset(p, view.XcompBv, 7, compacted: true);
        Assert.Equal(576, hi16);
        Assert.True(view.Component(p, 7).SequenceEqual(a.AsSpan(hi16, 1024)));
        Assert.True(view.Component(p, 7).SequenceEqual(cpu.Read(7)));
        Assert.True(view.Component(p, 2).IsEmpty); // not in XCOMP_BV
        Assert.True(view.Component(p, 17).SequenceEqual(cpu.Read(17)));
        Assert.Equal(cpu.Mxcsr, view.Mxcsr);
        Assert.Equal(cpu.MxcsrMask, view.MxcsrMask);

        var s = new byte[16384];
        Assert.False(cpu.Xsave(s, At, ~0UL).IsFault);
        var std = new XsaveArea(s);
        Assert.False(std.IsCompacted);
        Assert.True(std.Component(p, 2).SequenceEqual(cpu.Read(2)));
        Assert.True(std.Xmm(3).SequenceEqual(cpu.Read(1).Slice(48, 16)));
        Assert.Equal(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(cpu.Read(0)), std.Fcw);
        Assert.True(std.Component(p, 11).IsEmpty); // supervisor: no standard offset
        std.ClearHeader();
        Assert.Equal(0UL, std.XstateBv | std.XcompBv);
    }
}
