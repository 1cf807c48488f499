namespace XsaveLab.Kvm.Tests;

/// <summary>tools/testing/selftests/kvm/x86/amx_test.c (docs/linux-fpu-core.md, "Selftests"): the guest sequence with XFD and XFD_ERR,
/// the XSAVEC init-optimisation checks, and after every step a save of the whole vCPU state, a new VM and vCPU in a
/// new process, a restore, and a comparison of the state read back.</summary>
public class AmxTestMirror
{
    private KvmVcpu _v = null!;
    private int _migrations;

    private void Step(string sync, params string[] ops)
    {
        var r = _v.Run(TestCpus.Ops(ops));
        Assert.True(r.Result.Ok && r.ExpectationsMet, $"{sync}: {r.Result}\n{string.Join("\n", r.Guest)}");
        SaveRestoreCompare(sync);
    }

    /// <summary>vcpu_save_state(); kvm_vm_release(); vm_recreate_with_one_vcpu(); vcpu_load_state().</summary>
    private void SaveRestoreCompare(string sync)
    {
        var snap = _v.Save().Snapshot!;
        var sys = new KvmSystem(_v.Vm.System.Settings);
        Assert.True(sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18).Ok);
        var vm = sys.CreateVm();
        foreach (var (k, m) in snap.Memory)
            vm.GuestMemory[k] = (byte[])m.Clone();
        var (cr, nv) = vm.CreateVcpu(0);
        Assert.True(cr.Ok);
        Assert.True(nv!.SetCpuid2(snap.Cpuid).Ok, sync);
        Assert.True(nv.SetCr4OsXsave(snap.Cr4OsXsave).Ok, sync);
        Assert.True(nv.SetXcrs(snap.Xcrs).Ok, sync);
        var buf = new byte[nv.Fpu.UabiSize];
        snap.Xsave.CopyTo(buf, 0);
        var sx = nv.SetXsave(buf);
        Assert.True(sx.Ok, $"{sync}: KVM_SET_XSAVE {sx}");
        Assert.Equal(snap.Msrs.Count, (int)nv.SetMsrs(snap.Msrs).Value);
        var again = nv.Save().Snapshot!;
        Normalize(snap.Xsave);
        Normalize(again.Xsave);
        Assert.True(snap.Xsave.AsSpan().SequenceEqual(again.Xsave), $"{sync}: XSAVE2 image differs after restore at byte {snap.Xsave.AsSpan().CommonPrefixLength(again.Xsave)}: XSTATE_BV 0x{BinaryPrimitives.ReadUInt64LittleEndian(snap.Xsave.AsSpan(512)):x} vs 0x{BinaryPrimitives.ReadUInt64LittleEndian(again.Xsave.AsSpan(512)):x}");
        Assert.Equal(snap.Xcrs, again.Xcrs);
        Assert.Equal(snap.Msrs, again.Msrs);
        _v.Destroy();
        _v = nv;
        _migrations++;
    }

    /// <summary>PKRU is not part of the XRSTORS mask (XFEATURE_MASK_FPSTATE excludes it), so a host-initiated access
    /// to an XSAVE-managed MSR saves the host's PKRU register state into the guest buffer: XSTATE_BV[PKRU] may be
    /// set while the image shows the vCPU's PKRU (0 here). An all-zero PKRU with or without its header bit is the
    /// same state; compare that way.</summary>
    private void Normalize(byte[] img)
    {
        var cpu = _v.Vm.System.Settings.Cpu;
        if (cpu.Component(9) is not { StandardOffset: int off })
            return;
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512));
        if ((bv & XFeatureMasks.Pkru) != 0 && BinaryPrimitives.ReadUInt32LittleEndian(img.AsSpan(off)) == 0)
            BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(512), bv & ~XFeatureMasks.Pkru);
    }

    [SkippableFact]
    public void Amx_test_sequence_with_save_restore_after_every_step()
    {
        var cpu = TestCpus.Amx();
        Skip.If(cpu is null, "no catalog CPU with AMX and XFD");
        Sequence(cpu!);
    }

    /// <summary>The same sequence on the Sapphire Rapids dump of the shared folder, read with the dump reader.</summary>
    [SkippableFact]
    public void Amx_test_sequence_on_the_shared_sapphire_rapids_dump()
    {
        string? root = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "XsaveLab.slnx"))) { root = d.FullName; break; }
        Skip.If(root is null, "repository root not found");
        // <repo root>/../shared; a checkout nested one level deeper looks one more level up.
        string? dir = null;
        for (var d = new DirectoryInfo(root!).Parent; d != null && dir is null; d = d.Parent)
            if (Directory.Exists(Path.Combine(d.FullName, "shared", "cpuid-dumps")))
                dir = Path.Combine(d.FullName, "shared", "cpuid-dumps");
        Skip.If(dir is null, "<repo root>/../shared/cpuid-dumps is absent");
        var file = Directory.GetFiles(dir, "*SapphireRapids*.txt").FirstOrDefault();
        Skip.If(file is null, "no Sapphire Rapids dump in the shared folder");
        Sequence(Arch.Cpuid.CpuidTextReader.ReadFile(file!));
    }

    private void Sequence(Arch.Cpuid.CpuProfile cpu)
    {
        var sys = TestCpus.System(cpu);
        // Host side: guest permission first, before anything reads KVM_GET_SUPPORTED_CPUID.
        Assert.True(sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18).Ok);
        var supported = sys.GetSupportedCpuid();
        Assert.True(sys.Caps.Xfd);
        var vm = sys.CreateVm();
        var (_, v) = vm.CreateVcpu(0);
        _v = v!;
        Assert.True(_v.SetCpuid2(supported).Ok);
        Assert.True(_v.SetCr4OsXsave(true).Ok);
        Assert.True(_v.SetXcrs([(0u, _v.GuestSupportedXcr0)]).Ok);

        // 1: guest CPUID: XSAVE, XCR0 with both tile bits, max size within 8K+4K, tile component as CPUID says.
        var d0 = _v.Cpuid.Single(e => e.Function == 0xD && e.Index == 0);
        var d18 = _v.Cpuid.Single(e => e.Function == 0xD && e.Index == 18);
        Assert.Equal(XFeatureMasks.Xtile, _v.Xcr0 & XFeatureMasks.Xtile);
        Assert.InRange(d0.Ebx, 1u, 8192u + 4096u);
        Assert.Equal((uint)cpu!.Component(18)!.Value.Size, d18.Eax);
        Assert.Equal((uint)cpu.Component(18)!.Value.StandardOffset!.Value, d18.Ebx);
        Assert.Equal(d0.Ebx, d18.Ebx + d18.Eax);
        SaveRestoreCompare("SYNC(1)");

        // 2: XFD = 0, LDTILECFG.
        Step("SYNC(2)", "wrmsr IA32_XFD 0 => ok", "rdmsr IA32_XFD => 0", "ldtilecfg => ok");
        // 3/4: TILELOADD; the host finds the tile data in the saved state at max size - tile size.
        Step("SYNC(4)", "tileloadd => ok");
        _v.GetXsave2(out var img);
        int tiles = (int)(d0.Ebx - d18.Eax);
        for (int i = 0; i < 1024; i++)
            Assert.Equal((byte)(0xA5 ^ i), img[tiles + i]);
        Assert.NotEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512)) & XFeatureMasks.XtileData);
        // 5: TILERELEASE; XSAVEC with XSTATE_BV preset to XTILE_DATA: bit 18 cleared in XSTATE_BV, set in XCOMP_BV.
        Step("SYNC(5)", "tilerelease => ok");
        var r = _v.Run(TestCpus.Ops("set_xstate_bv buf 0x40000", "xsavec buf 0x40000 => ok"));
        Assert.True(r.ExpectationsMet, string.Join("\n", r.Guest));
        CheckInitOptimisation("after TILERELEASE");
        // 6: XFD = XTILE_DATA; the same XSAVEC result; XFD reads back.
        Step("SYNC(6)", "wrmsr IA32_XFD 0x40000 => ok", "set_xstate_bv buf 0x40000", "xsavec buf 0x40000 => ok", "rdmsr IA32_XFD => 0x40000");
        CheckInitOptimisation("with XFD armed");
        // 7/8: LDTILECFG, TILELOADD raises #NM; the handler sees XFD_ERR = XFD = XTILE_DATA (across a migration too).
        Step("SYNC(7)", "ldtilecfg", "tileloadd => #NM", "rdmsr IA32_XFD_ERR => 0x40000", "rdmsr IA32_XFD => 0x40000");
        Assert.Equal(XFeatureMasks.XtileData, _v.Fpu.XfdErr);
        Step("SYNC(8)", "rdmsr IA32_XFD_ERR => 0x40000", "rdmsr IA32_XFD => 0x40000");
        // 9: the handler clears XFD_ERR and XFD; 10: TILELOADD now succeeds and the host sees the data.
        Step("SYNC(9)", "wrmsr IA32_XFD_ERR 0 => ok", "wrmsr IA32_XFD 0 => ok");
        Step("SYNC(10)", "tileloadd => ok");
        _v.GetXsave2(out img);
        for (int i = 0; i < 1024; i++)
            Assert.Equal((byte)(0xA5 ^ i), img[tiles + i]);
        Assert.Equal(0UL, _v.Fpu.XfdErr);
        Assert.Equal(9, _migrations);
    }

    private void CheckInitOptimisation(string when)
    {
        var buf = _v.Vm.GuestMemory["buf"];
        ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(512));
        ulong comp = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(520));
        Assert.True((bv & XFeatureMasks.XtileData) == 0, $"{when}: XSTATE_BV 0x{bv:x} has tile data");
        Assert.True((comp & XFeatureMasks.XtileData) != 0, $"{when}: XCOMP_BV 0x{comp:x} lacks tile data");
    }

    [SkippableFact]
    public void Amx_without_guest_permission_is_missing_from_cpuid_and_refused_by_set_cpuid2()
    {
        var cpu = TestCpus.Amx();
        Skip.If(cpu is null, "no catalog CPU with AMX and XFD");
        var sys = TestCpus.System(cpu!);
        var t = sys.GetSupportedCpuid();
        Assert.DoesNotContain(t, e => e.Function == 0xD && e.Index is 17 or 18);
        var d0 = t.Single(e => e.Function == 0xD && e.Index == 0);
        var withAmx = t.Select(e => e.Function == 0xD && e.Index == 0 ? e with { Eax = e.Eax | (uint)XFeatureMasks.Xtile } : e).ToArray();
        var (_, v) = sys.CreateVm().CreateVcpu(0);
        Assert.Equal(Errno.EPERM, v!.SetCpuid2(withAmx).Errno);
        Assert.True(v.SetCpuid2(t).Ok);
        Assert.Equal(0u, d0.Eax & (uint)XFeatureMasks.Xtile);
    }
}
