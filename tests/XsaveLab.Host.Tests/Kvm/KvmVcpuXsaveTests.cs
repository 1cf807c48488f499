namespace XsaveLab.Host.Tests.Kvm;

/// <summary>A vCPU's XSAVE uABI image (KVM_GET_XSAVE/GET_XSAVE2/SET_XSAVE) and XCRs.</summary>
public sealed class KvmVcpuXsaveTests : IDisposable
{
    private readonly KvmDevice? _dev;
    private readonly KvmVmFd? _vm;
    private readonly KvmVcpuFd? _vcpu;
    private readonly string? _skip;

    public KvmVcpuXsaveTests()
    {
        if (!File.Exists(KvmDevice.DefaultPath))
        {
            _skip = "/dev/kvm is absent";
            return;
        }
        _dev = KvmDevice.TryOpen(out int errno);
        if (_dev is null)
        {
            _skip = $"/dev/kvm cannot be opened: {ErrnoNames.Name(errno)}";
            return;
        }
        var vm = _dev.CreateVm();
        _vm = vm.Data;
        var vcpu = _vm?.CreateVcpu();
        _vcpu = vcpu?.Data;
        if (_vcpu is null)
            _skip = $"cannot create a VM and vCPU: VM {vm}, vCPU {vcpu}";
    }

    public void Dispose() => _dev?.Dispose();

    private KvmVcpuFd Vcpu()
    {
        Linux.HostFacts.SkipUnlessXsaveLinux();
        Skip.If(_skip is not null, _skip);
        return _vcpu!;
    }

    private static ulong U64(byte[] b, int off) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(off));

    [SkippableFact]
    public void Fresh_vcpu_image_is_the_init_state_in_standard_format()
    {
        var vcpu = Vcpu();
        int size = _vm!.Xsave2Size();
        var x2 = vcpu.GetXsave2(size);
        Assert.True(x2.Ok, x2.ToString());
        var img = x2.Data!;
        Assert.Equal(size, img.Length);
        Assert.Equal(0UL, U64(img, 512));  // XSTATE_BV: everything in init state
        Assert.Equal(0UL, U64(img, 520));  // XCOMP_BV: standard format
        Assert.Equal(LiveArchPrctl.GetSupported().Value, U64(img, 464)); // xstate_fx_sw_bytes: host user max features
        Assert.Equal(0x037F, BinaryPrimitives.ReadUInt16LittleEndian(img.AsSpan(0))); // FCW reset value
        Assert.Equal(0x1F80u, BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(24))); // MXCSR_DEFAULT
        // Everything else of the legacy area, the rest of sw_reserved, the header, every extended
        // component and the tail up to the buffer end is zero (__copy_xstate_to_uabi_buf zero-fills).
        for (int i = 0; i < img.Length; i++)
        {
            if (i is < 2 or (>= 24 and < 32) or (>= 464 and < 472))
                continue;
            Assert.True(img[i] == 0, $"byte {i} = 0x{img[i]:X2}");
        }
        if (size == KvmAbi.XsaveStructSize)
        {
            var x1 = vcpu.GetXsave();
            Assert.True(x1.Ok, x1.ToString());
            Assert.Equal(img, x1.Data);
        }
    }

    /// <summary>Gives the vCPU the supported CPUID, so its guest_supported_xcr0 is leaf 0xD.0's XCR0.</summary>
    private ulong SetSupportedCpuid(KvmVcpuFd vcpu)
    {
        var cpuid = _dev!.GetSupportedCpuid().Data!;
        var r = vcpu.SetCpuid2(cpuid);
        Assert.True(r.Ok, $"KVM_SET_CPUID2: {r}");
        var d0 = cpuid.Single(e => e.Function == 0xD && e.Index == 0);
        return d0.Eax | (ulong)d0.Edx << 32;
    }

    /// <summary>kvm_vcpu_ioctl_x86_get_xsave2() copies only guest_supported_xcr0 | FP | SSE, and
    /// guest_supported_xcr0 comes from the guest's CPUID (0 before KVM_SET_CPUID2), while KVM_SET_XSAVE
    /// validates against the fpstate's user_xfeatures (the default features until the CPUID is set).</summary>
    [SkippableFact]
    public void Before_set_cpuid2_set_xsave_accepts_all_but_get_shows_only_x87_and_sse()
    {
        var vcpu = Vcpu();
        var layout = UserXstateLayout.FromHost();
        int size = _vm!.Xsave2Size();
        var img = SeededXstateImage.Build(99, layout);
        Skip.If(img.LoadedFeatures == XFeatureMasks.FpSse, "no extended user feature to load");
        var set = vcpu.SetXsave(img.Image);
        Assert.True(set.Ok, set.ToString());
        var back = vcpu.GetXsave2(size).Data!;
        Assert.Equal(img.LoadedFeatures & XFeatureMasks.FpSse, U64(back, 512));
        Assert.Equal(img.Image[..416], back[..416]);
        Assert.All(back[576..], b => Assert.Equal(0, b));

        // The state was kept: with the CPUID set, all of it is reported.
        SetSupportedCpuid(vcpu);
        Assert.Empty(img.CompareWith(vcpu.GetXsave2(size).Data.AsSpan(0, layout.Size)));
    }

    [SkippableFact]
    public void Set_xsave_round_trips_seeded_images()
    {
        var vcpu = Vcpu();
        ulong guestXcr0 = SetSupportedCpuid(vcpu);
        var layout = UserXstateLayout.FromHost();
        int size = _vm!.Xsave2Size();
        for (ulong seed = 1; seed <= 40; seed++)
        {
            var img = SeededXstateImage.Build(seed * 0x9E37, layout, guestXcr0);
            var set = vcpu.SetXsave(img.Image);
            Assert.True(set.Ok, $"seed {seed}: {set}");
            var back = vcpu.GetXsave2(size).Data!;
            var diffs = img.CompareWith(back.AsSpan(0, layout.Size));
            Assert.True(diffs.Count == 0, $"seed {seed}:\n{string.Join("\n", diffs)}");
            Assert.All(back[layout.Size..], b => Assert.Equal(0, b));
        }
    }

    public static TheoryData<string> MalformedCases => new()
    {
        "supervisor bit CET_U", "supervisor bit CET_S", "unsupported user bit", "compacted XCOMP_BV",
        "reserved MXCSR bits", "reserved header byte 530",
    };

    /// <summary>fpu_copy_uabi_to_guest_fpstate() → copy_uabi_to_xstate(): EINVAL, nothing changed.</summary>
    [SkippableTheory]
    [MemberData(nameof(MalformedCases))]
    public void Set_xsave_rejects_malformed_images_with_EINVAL_and_changes_nothing(string kind)
    {
        var vcpu = Vcpu();
        var layout = UserXstateLayout.FromHost();
        int size = _vm!.Xsave2Size();
        var valid = SeededXstateImage.Build(77, layout).Image;
        Assert.True(vcpu.SetXsave(valid).Ok);
        var before = vcpu.GetXsave2(size).Data!;
        var img = (byte[])valid.Clone();
        ulong bv = U64(img, 512);
        switch (kind)
        {
            case "supervisor bit CET_U": bv |= XFeatureMasks.CetUser; break;
            case "supervisor bit CET_S": bv |= XFeatureMasks.CetKernel; break;
            case "unsupported user bit":
                int missing = Enumerable.Range(2, 62).First(i => i == 63 || ((layout.Features >> i & 1) == 0 && (XFeatureMasks.UserSupported >> i & 1) != 0));
                bv |= 1UL << missing;
                break;
            case "compacted XCOMP_BV":
                BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(520), XFeatureMasks.CompactedFormat | bv);
                break;
            case "reserved MXCSR bits":
                BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(24), 0xFFFFFFFF);
                break;
            case "reserved header byte 530":
                img[530] = 1;
                break;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), bv);
        var r = vcpu.SetXsave(img);
        Assert.Equal(-1, r.Ret);
        Assert.Equal(ErrnoNames.Name(Errno.EINVAL), ErrnoNames.Name(r.Errno));
        Assert.Equal(before, vcpu.GetXsave2(size).Data);
    }

    [SkippableFact]
    public void Xcr0_starts_at_its_reset_value_and_takes_a_supported_value()
    {
        var vcpu = Vcpu();
        var fresh = vcpu.GetXcrs();
        Assert.True(fresh.Ok, fresh.ToString());
        Assert.Equal([new KvmXcr(0, XFeatureMasks.Fp)], fresh.Data); // XCR0 = 1 after RESET (SDM Vol.3 §9.1.1)

        var cpuid = _dev!.GetSupportedCpuid().Data!;
        Assert.True(vcpu.SetCpuid2(cpuid).Ok);
        var d0 = cpuid.Single(e => e.Function == 0xD && e.Index == 0);
        ulong xcr0 = d0.Eax | (ulong)d0.Edx << 32;
        var set = vcpu.SetXcrs([new KvmXcr(0, xcr0)]);
        Assert.True(set.Ok, set.ToString());
        Assert.Equal([new KvmXcr(0, xcr0)], vcpu.GetXcrs().Data);

        // x87 may never be cleared in XCR0 (__kvm_set_xcr: !(xcr0 & XFEATURE_MASK_FP) → fail).
        var bad = vcpu.SetXcrs([new KvmXcr(0, xcr0 & ~XFeatureMasks.Fp)]);
        Assert.Equal(ErrnoNames.Name(Errno.EINVAL), ErrnoNames.Name(bad.Errno));
        Assert.Equal([new KvmXcr(0, xcr0)], vcpu.GetXcrs().Data);
    }
}
