namespace XsaveLab.Kvm.Tests;

/// <summary>Where the CET MSRs' guest values live: CET_U = {U_CET, PL3_SSP}, CET_S = {PL0_SSP, PL1_SSP, PL2_SSP} in the
/// guest fpstate (KVM's is_xstate_managed_msr()); S_CET and INT_SSP_TAB outside it.</summary>
public class CetLocationTests
{
    [Theory]
    [MemberData(nameof(GuestFpstateVariantTests.CetCpus), MemberType = typeof(GuestFpstateVariantTests))]
    public void Host_written_cet_msrs_land_in_the_guest_fpstate_components(string name)
    {
        var cpu = TestCpus.Get(name);
        var sys = TestCpus.System(cpu);
        Assert.True(sys.Caps.Shstk, "KVM 6.18 offers CET on every CPU with SHSTK, XSAVES and both CET XSS bits");
        var v = TestCpus.NewVcpu(sys, requestAmx: false);
        const ulong uCet = 0x1, pl3 = 0x7fff_0000_1230, pl0 = 0xffff_8000_0000_1000, pl1 = 0xffff_8000_0000_2000, pl2 = 0xffff_8000_0000_3000;
        const ulong sCet = 0x1, ist = 0xffff_8000_0000_4440;
        Assert.Equal(7L, v.SetMsrs([(Msr.IA32_U_CET, uCet), (Msr.IA32_PL3_SSP, pl3), (Msr.IA32_PL0_SSP, pl0), (Msr.IA32_PL1_SSP, pl1),
            (Msr.IA32_PL2_SSP, pl2), (Msr.IA32_S_CET, sCet), (Msr.IA32_INT_SSP_TAB, ist)]).Value);
        var fps = v.Fpu.FpState!;
        Assert.Equal(XFeatureMasks.CetUser | XFeatureMasks.CetKernel, fps.XstateBv & (XFeatureMasks.CetUser | XFeatureMasks.CetKernel));
        int u = XStateGeometry.Offset(cpu, fps.XcompBv, 11, true), s = XStateGeometry.Offset(cpu, fps.XcompBv, 12, true);
        ulong Q(int off) => BinaryPrimitives.ReadUInt64LittleEndian(fps.Buffer.AsSpan(off));
        Assert.Equal((uCet, pl3), (Q(u), Q(u + 8)));
        Assert.Equal((pl0, pl1, pl2), (Q(s), Q(s + 8), Q(s + 16)));
        // S_CET and INT_SSP_TAB are not XSAVE-managed: not in the buffer, kept by the vCPU (VMCS).
        for (int off = 0; off + 8 <= fps.Size; off += 8)
            Assert.NotEqual(ist, Q(off));
        Assert.Equal((sCet, ist), (v.SCet, v.IntSspTab));
        // None of it leaks into the UABI image (supervisor state never leaves through KVM_GET_XSAVE2).
        v.GetXsave2(out var img);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512)) & (XFeatureMasks.CetUser | XFeatureMasks.CetKernel));
        Assert.Equal(-1, img.AsSpan().IndexOf(BitConverter.GetBytes(pl0)));
    }
}
