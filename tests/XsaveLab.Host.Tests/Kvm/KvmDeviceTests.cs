namespace XsaveLab.Host.Tests.Kvm;

public class KvmDeviceTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Api_version_is_12()
    {
        using var dev = KvmFacts.Open();
        Assert.Equal(KvmAbi.ApiVersion, dev.ApiVersion().Ret);
    }

    [SkippableFact]
    public void Cap_xsave2_is_the_guest_uabi_size_but_at_least_4096_on_system_and_vm_fd()
    {
        using var dev = KvmFacts.Open();
        var sys = dev.CheckExtension(KvmAbi.CapXsave2);
        Skip.If(sys.Ret == 0, "KVM_CAP_XSAVE2 not supported by this kernel (before 5.17)");
        // kvm_vm_ioctl_check_extension: xstate_required_size(supported_xcr0 & guest perm, false), min 4096.
        ulong filtered = KvmFacts.SupportedXcr0(dev) & LiveArchPrctl.GetGuestPermitted().Value;
        int expected = Math.Max(KvmAbi.XsaveStructSize, KvmFacts.StandardSize(filtered));
        Assert.Equal(expected, sys.Ret);
        using var vm = dev.CreateVm().Data!;
        Assert.Equal(expected, vm.CheckExtension(KvmAbi.CapXsave2).Ret);
        Assert.Equal(expected, vm.Xsave2Size());
    }

    [SkippableFact]
    public void Supported_cpuid_leaf_D0_is_the_permitted_supported_xcr0_and_its_size()
    {
        using var dev = KvmFacts.Open();
        var cpuid = dev.GetSupportedCpuid();
        Assert.True(cpuid.Ok, cpuid.ToString());
        var d0 = cpuid.Data!.Single(e => e.Function == 0xD && e.Index == 0);
        ulong leafXcr0 = d0.Eax | (ulong)d0.Edx << 32;
        ulong permitted = KvmFacts.SupportedXcr0(dev) & LiveArchPrctl.GetGuestPermitted().Value;
        Assert.Equal(permitted, leafXcr0);
        Assert.True(XFeatureMasks.IsSubset(leafXcr0, UserXstateLayout.HostCpuidXcr0()));
        Assert.Equal(KvmFacts.StandardSize(leafXcr0), (int)d0.Ebx);
        Assert.Equal(d0.Ebx, d0.Ecx);
        var attr = dev.GetXcompGuestSupp();
        output.WriteLine($"KVM_X86_XCOMP_GUEST_SUPP: {(attr.Ok ? $"0x{attr.Data:X}" : attr.ToString())}; leaf 0xD.0 0x{leafXcr0:X} size {d0.Ebx}; {cpuid.Data!.Count} entries");
    }

    [SkippableFact]
    public void Msr_lists_are_readable_and_each_msr_is_got_one_at_a_time()
    {
        using var dev = KvmFacts.Open();
        var list = dev.GetMsrIndexList();
        Assert.True(list.Ok, list.ToString());
        Assert.Contains(0x10u, list.Data!); // IA32_TSC is always in msrs_to_save
        var features = dev.GetMsrFeatureIndexList();
        Assert.True(features.Ok || features.Errno == Errno.EINVAL, features.ToString());

        using var vm = dev.CreateVm().Data!;
        using var vcpu = vm.CreateVcpu().Data!;
        Assert.Equal(1, vcpu.GetMsr(0x10).Ret);
        foreach (uint msr in list.Data!)
            Assert.InRange(vcpu.GetMsr(msr).Ret, 0, 1);
        uint[] fpuMsrs = [0xDA0, 0x1C4, 0x1C5, 0x6A0, 0x6A2, 0x6A4, 0x6A5, 0x6A6, 0x6A7, 0x6A8];
        foreach (uint msr in fpuMsrs)
        {
            var g = vcpu.GetMsr(msr);
            output.WriteLine($"MSR 0x{msr:X}: listed={list.Data!.Contains(msr)} get processed={g.Ret} value=0x{g.Data:X}");
        }
    }

    [SkippableFact]
    public void Using_a_disposed_vcpu_is_misuse()
    {
        using var dev = KvmFacts.Open();
        var vm = dev.CreateVm().Data!;
        var vcpu = vm.CreateVcpu().Data!;
        vm.Dispose();
        Assert.Throws<ObjectDisposedException>(() => vcpu.GetXsave());
        Assert.Throws<ObjectDisposedException>(() => vm.CreateVcpu());
    }
}

[Collection(FdCountCollection.Name)]
public class KvmFdTests
{
    [SkippableFact]
    public void Disposing_the_device_closes_every_fd_in_reverse_order()
    {
        HostFacts.SkipUnlessXsaveLinux();
        int before = KvmFdCount();
        int[] fds;
        using (var dev = KvmFacts.Open())
        {
            var vm = dev.CreateVm();
            Assert.True(vm.Ok, vm.ToString());
            var vcpu = vm.Data!.CreateVcpu();
            Assert.True(vcpu.Ok, vcpu.ToString());
            Assert.Equal(before + 3, KvmFdCount());
            vcpu.Data!.Dispose();
            Assert.Equal(before + 2, KvmFdCount());
            var second = vm.Data.CreateVcpu(1).Data!;
            fds = [dev.Fd, vm.Data.Fd, second.Fd];
            Assert.Equal("/dev/kvm", Target(fds[0]));
            Assert.Equal("anon_inode:kvm-vm", Target(fds[1]));
            Assert.Equal("anon_inode:kvm-vcpu:1", Target(fds[2]));
        }
        Assert.Equal(before, KvmFdCount());
        Assert.All(fds, fd => Assert.NotEqual("/dev/kvm", Target(fd)));
    }

    /// <summary>Open fds of this process that refer to KVM (/dev/kvm, VM and vCPU anon inodes); other
    /// tests open and close unrelated fds at any time, so the whole table cannot be counted.</summary>
    private static int KvmFdCount() =>
        Directory.GetFileSystemEntries("/proc/self/fd").Count(f =>
            new FileInfo(f).LinkTarget is { } t && (t == "/dev/kvm" || t.StartsWith("anon_inode:kvm-", StringComparison.Ordinal)));

    private static string? Target(int fd)
    {
        var info = new FileInfo($"/proc/self/fd/{fd}");
        return info.Exists || info.LinkTarget is not null ? info.LinkTarget : null;
    }
}
