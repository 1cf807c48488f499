namespace XsaveLab.Kvm.Tests;

/// <summary>KVM_GET/SET_XSAVE(2) and KVM_GET/SET_XCRS.</summary>
public class XsaveIoctlTests
{
    [Theory]
    [MemberData(nameof(TestCpus.NamesAndVariants), MemberType = typeof(TestCpus))]
    public void A_fresh_vcpu_image_has_legacy_defaults_empty_header_xcr0_at_464_and_zero_tail(string name, string variant)
    {
        var sys = TestCpus.System(TestCpus.Get(name), variant);
        var (_, v) = sys.CreateVm().CreateVcpu(0);
        Assert.True(v!.GetXsave2(out var img).Ok);
        Assert.Equal(4096, img.Length);
        Assert.True(v.GetXsave(out var img1).Ok);
        Assert.Equal(img, img1);
        Assert.Equal(0x37F, BinaryPrimitives.ReadUInt16LittleEndian(img));
        Assert.Equal(0x1F80u, BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(24)));
        if (!sys.Host.XsaveEnabled)
        {
            // fpu_copy_guest_fpstate_to_uabi() without XSAVE: FXSAVE area, header.xfeatures = FP|SSE.
            Assert.Equal(XFeatureMasks.FpSse, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512)));
        }
        else
        {
            Assert.Equal(sys.Cpu.MxcsrMask, BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(28)));
            Assert.Equal(sys.Host.UserMaxFeatures, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(464)));
            Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512)));
            Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(520)));
        }
        Assert.Equal(-1, img.AsSpan(576).IndexOfAnyExcept((byte)0));
        Assert.True(v.GetXcrs(out var xcrs).Ok);
        if (sys.Host.XsaveEnabled)
            Assert.Equal([(0u, 1UL)], xcrs);
    }

    [Fact]
    public void Get_xsave_fails_once_amx_is_exposed()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        var v = TestCpus.NewVcpu(sys, requestAmx: true, setCpuid: false);
        Assert.True(v.GetXsave(out _).Ok);
        Assert.True(v.SetCpuid2(sys.GetSupportedCpuid()).Ok);
        Assert.Equal(Errno.EINVAL, v.GetXsave(out _).Errno);
        Assert.True(v.GetXsave2(out var img).Ok);
        Assert.Equal(sys.CheckExtension(KvmAbi.CapXsave2).Value, img.Length);
        Assert.Equal(Errno.EFAULT, v.SetXsave(new byte[4096]).Errno);
    }

    [Theory]
    [MemberData(nameof(SelftestMirrorTests.XsaveCpus), MemberType = typeof(SelftestMirrorTests))]
    public void Set_xsave_rejects_what_fpu_copy_uabi_to_guest_fpstate_rejects(string name)
    {
        var (_, sys) = TestCpus.XsaveSystem(name);
        var v = TestCpus.NewVcpu(sys, requestAmx: false);
        v.GetXsave2(out var good);
        Assert.True(v.SetXsave(good).Ok);
        byte[] Mut(Action<byte[]> f) { var b = (byte[])good.Clone(); f(b); return b; }
        void Hdr(byte[] b, ulong bv) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(512), bv);
        for (int i = 2; i < 64; i++)
        {
            ulong bit = 1UL << i;
            var r = v.SetXsave(Mut(b => Hdr(b, bit)));
            bool allowed = (sys.Caps.SupportedXcr0 & v.Fpu.FpState!.UserXfeatures & bit) != 0;
            Assert.True(allowed == r.Ok, $"bit {i}: {r}");
        }
        Assert.Equal(Errno.EINVAL, v.SetXsave(Mut(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(520), XFeatureMasks.CompactedFormat | 3))).Errno);
        Assert.Equal(Errno.EINVAL, v.SetXsave(Mut(b => b[530] = 1)).Errno);
        Assert.Equal(Errno.EINVAL, v.SetXsave(Mut(b => { Hdr(b, 3); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), 0xFFFFFFFF); })).Errno);
        Assert.Equal(Errno.EINVAL, v.SetXsave(Mut(b => Hdr(b, XFeatureMasks.CetUser))).Errno);
    }

    [Theory]
    [MemberData(nameof(SelftestMirrorTests.XsaveCpus), MemberType = typeof(SelftestMirrorTests))]
    public void Random_valid_images_round_trip(string name)
    {
        var (cpu, sys) = TestCpus.XsaveSystem(name);
        var v = TestCpus.NewVcpu(sys);
        int seed = 1000 + name.Length;
        var rng = new Random(seed);
        ulong allowed = v.GuestSupportedXcr0 & v.Fpu.FpState!.UserXfeatures;
        for (int n = 0; n < 50; n++)
        {
            v.GetXsave2(out var img);
            ulong bv = XFeatureMasks.FpSse | ((ulong)rng.NextInt64() & allowed);
            Array.Clear(img, 576, img.Length - 576);
            rng.NextBytes(img.AsSpan(0, 416));
            BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(24), (uint)rng.Next() & 0xFFBF);
            BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(28), sys.Cpu.MxcsrMask);
            BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), bv);
            for (int i = 2; i < 64; i++)
                if ((bv >> i & 1) != 0 && cpu.Component(i) is { StandardOffset: int off } c)
                    rng.NextBytes(img.AsSpan(off, c.Size));
            if ((bv & XFeatureMasks.Pkru) != 0 && cpu.Component(9) is { StandardOffset: int po })
                BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(po + 4), 0);
            var r = v.SetXsave(img);
            Assert.True(r.Ok, $"seed {seed} n {n}: {r}");
            v.GetXsave2(out var back);
            Assert.True(img.AsSpan().SequenceEqual(back), $"seed {seed} n {n}: round trip differs at {img.AsSpan().CommonPrefixLength(back)}");
        }
    }

    [Fact]
    public void Pkru_is_taken_only_when_the_image_has_it()
    {
        var cpu = CpuCatalog.All.First(c => (c.SupportedXcr0 & XFeatureMasks.Pkru) != 0 && c.Has(CpuFeature.Pku));
        var sys = TestCpus.System(cpu);
        var v = TestCpus.NewVcpu(sys, requestAmx: false);
        int off = cpu.Component(9)!.Value.StandardOffset!.Value;
        v.GetXsave2(out var img);
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), XFeatureMasks.Pkru);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(off), 0x55555554);
        Assert.True(v.SetXsave(img).Ok);
        Assert.Equal(0x55555554u, v.Pkru);
        // Without PKRU in the header KVM passes no PKRU pointer: vcpu->arch.pkru is kept, not reset to 0.
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), 0);
        Assert.True(v.SetXsave(img).Ok);
        Assert.Equal(0x55555554u, v.Pkru);
        // The image shows PKRU only for features in the buffer's XSTATE_BV (mask = header.xfeatures).
        v.GetXsave2(out var back);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(back.AsSpan(512)) & XFeatureMasks.Pkru);
    }

    [Fact]
    public void Set_xcrs_applies_kvm_set_xcr_rules()
    {
        var sys = TestCpus.System(TestCpus.Amx()!);
        var v = TestCpus.NewVcpu(sys);
        Assert.Equal(Errno.EINVAL, v.SetXcrs([(0u, 0UL)]).Errno);
        Assert.Equal(Errno.EINVAL, v.SetXcrs([(0u, 0x5UL)]).Errno);
        Assert.Equal(Errno.EINVAL, v.SetXcrs([(0u, v.GuestSupportedXcr0 & ~XFeatureMasks.XtileData)]).Errno);
        Assert.True(v.SetXcrs([(0u, v.GuestSupportedXcr0)]).Ok);
        Assert.Equal(v.GuestSupportedXcr0, v.Xcr0);
    }
}
