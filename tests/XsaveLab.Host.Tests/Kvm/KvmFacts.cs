namespace XsaveLab.Host.Tests.Kvm;

internal static class KvmFacts
{
    /// <summary>/dev/kvm opened, or a skip with the reason.</summary>
    public static KvmDevice Open()
    {
        HostFacts.SkipUnlessXsaveLinux();
        Skip.IfNot(File.Exists(KvmDevice.DefaultPath), "/dev/kvm is absent");
        var dev = KvmDevice.TryOpen(out int errno);
        Skip.If(dev is null, $"/dev/kvm cannot be opened: {ErrnoNames.Name(errno)}");
        return dev!;
    }

    /// <summary>/dev/kvm with a VM and its vCPU 0, or a skip naming the ioctl that failed. Disposing the device
    /// closes the VM and the vCPU too (each fd owns the fds it created).</summary>
    public static (KvmDevice Dev, KvmVmFd Vm, KvmVcpuFd Vcpu) OpenVcpu()
    {
        var dev = Open();
        var vm = dev.CreateVm();
        KvmResult<KvmVcpuFd>? vcpu = vm.Ok ? vm.Data!.CreateVcpu() : null;
        if (vcpu is not { Ok: true })
        {
            dev.Dispose();
            Skip.If(true, vm.Ok ? $"KVM_CREATE_VCPU: {vcpu}" : $"KVM_CREATE_VM: {vm}");
        }
        return (dev, vm.Data!, vcpu!.Value.Data!);
    }

    /// <summary>Standard-format size of <paramref name="xcr0"/> on this CPU (xstate_required_size(.., false)):
    /// the end of the highest enabled component, from CPUID(0xD, i).</summary>
    public static int StandardSize(ulong xcr0)
    {
        int end = 576;
        for (int i = 2; i < 64; i++)
            if ((xcr0 >> i & 1) != 0)
            {
                var (a, b, _, _) = X86Base.CpuId(0xD, i);
                end = Math.Max(end, b + a);
            }
        return end;
    }

    /// <summary>kvm_caps.supported_xcr0: from KVM_X86_XCOMP_GUEST_SUPP when the kernel has it, else from
    /// the supported CPUID leaf 0xD.0 (which is filtered by guest permission as well).</summary>
    public static ulong SupportedXcr0(KvmDevice dev)
    {
        var attr = dev.GetXcompGuestSupp();
        if (attr.Ok)
            return attr.Data;
        var d0 = dev.GetSupportedCpuid().Data!.First(e => e.Function == 0xD && e.Index == 0);
        return d0.Eax | (ulong)d0.Edx << 32;
    }
}
