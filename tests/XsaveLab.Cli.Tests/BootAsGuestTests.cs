namespace XsaveLab.Cli.Tests;

/// <summary><c>boot --as-guest</c>: CPUID 0xD EBX read as a hypervisor presents it, on two public guest CPUIDs.</summary>
public class BootAsGuestTests
{
    /// <summary>The bad boot log of microsoft/openvmm issue #708 (TDX guest, Ubuntu 22.04, kernel
    /// 6.8.0-1017-azure), timestamps stripped: every sub-leaf of 0xD the issue's text quotes in full (its stored copy
    /// breaks off inside the next line, <see cref="OpenVmmCutLine"/>; the log attachment is not part of it).</summary>
    private static readonly string[] OpenVmmDump =
    [
        "CPUID[0d, 00]: eax=000600e7 ebx=00002b00 ecx=00002b00 edx=00000000",
        "CPUID[0d, 01]: eax=0000001b ebx=000029d0 ecx=00001800 edx=00000000",
        "CPUID[0d, 02]: eax=00000100 ebx=00000240 ecx=00000000 edx=00000000",
        "CPUID[0d, 03]: eax=00000000 ebx=00000000 ecx=00000000 edx=00000000",
        "CPUID[0d, 04]: eax=00000000 ebx=00000000 ecx=00000000 edx=00000000",
        "CPUID[0d, 05]: eax=00000040 ebx=00000440 ecx=00000000 edx=00000000",
        "CPUID[0d, 06]: eax=00000200 ebx=00000480 ecx=00000000 edx=00000000",
        "CPUID[0d, 07]: eax=00000400 ebx=00000680 ecx=00000000 edx=00000000",
        "CPUID[0d, 08]: eax=00000000 ebx=00000000 ecx=00000000 edx=00000000",
        "CPUID[0d, 09]: eax=00000000 ebx=00000000 ecx=00000000 edx=00000000",
        "CPUID[0d, 0a]: eax=00000000 ebx=00000000 ecx=00000000 edx=00000000",
    ];

    /// <summary>The beginning of the line the quoted log breaks off in: CET_U's sub-leaf (11), size 16.</summary>
    private const string OpenVmmCutLine = "CPUID[0d, 0b]: eax=000000";

    private const string OpenVmmWarning = "XSAVE consistency problem: size 10752 != kernel_size 10704";

    /// <summary>The emr profile with the guest's 0xD sub-leaves from the log; sub-leaves the log shows as zero
    /// are removed, the ones it does not quote (CET, AMX) keep the profile's values.</summary>
    private static CpuProfile OpenVmmGuest()
    {
        var emr = CpuCatalog.Get("emr");
        var given = OpenVmmDump.Select(Parse).ToDictionary(l => l.Subleaf);
        var leaves = emr.Leaves
            .Where(l => l.Leaf != 0xD || !given.TryGetValue(l.Subleaf, out var g) || g.Eax != 0 || g.Ebx != 0 || g.Ecx != 0)
            .Select(l => l.Leaf == 0xD && given.TryGetValue(l.Subleaf, out var g) ? g : l);
        return new CpuProfile("emr", "openvmm #708 guest", leaves);
    }

    private static CpuidLeaf Parse(string line)
    {
        var m = Regex.Match(line, @"^CPUID\[0d, ([0-9a-f]{2})\]: eax=([0-9a-f]{8}) ebx=([0-9a-f]{8}) ecx=([0-9a-f]{8}) edx=([0-9a-f]{8})$");
        Assert.True(m.Success, line);
        uint H(int i) => uint.Parse(m.Groups[i].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new CpuidLeaf(0xD, H(1), H(2), H(3), H(4), H(5));
    }

    private static CpuProfile WslGuest()
    {
        var zen2 = CpuCatalog.Get("zen2-matisse");
        return new CpuProfile(zen2.Name, "WSL2 guest", zen2.Leaves.Select(l => l.Leaf == 0xD && l.Subleaf == 1 ? l with { Ebx = 0 } : l));
    }

    [Fact]
    public void OpenVmm_guest_prints_the_kernels_warning_and_dump_and_names_the_missing_alignment()
    {
        using var dir = new ScratchDirectory("asguest");
        string file = dir.Write("openvmm.cpuid", CpuidTextWriter.Write(OpenVmmGuest()));
        // The log's kernel is 6.8; the modelled 6.6 has the same FPU core for it: user shadow stacks (IA32_XSS holds
        // CET_U, which the warning's 10752 includes; OpenVMM logged xss=0x800), CET_KERNEL unused, and an xfeature
        // enum that ends with XTILE_DATA (APX came in 6.16).
        var (code, output, err) = CliRunner.Run("boot", "--as-guest", "--cpuid", file, "--kernel", "6.6", "--format", "json");
        Assert.True(code == 1, err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        var dmesg = r.GetProperty("dmesg").EnumerateArray().Select(x => x.GetString()!).ToList();
        int at = dmesg.IndexOf(OpenVmmWarning);
        Assert.True(at >= 0, string.Join('\n', dmesg));
        Assert.Equal(OpenVmmDump, dmesg.Skip(at + 1).Take(OpenVmmDump.Length));
        Assert.StartsWith(OpenVmmCutLine, dmesg[at + 1 + OpenVmmDump.Length], StringComparison.Ordinal);
        // __xstate_dump_leaves() prints XFEATURE_MAX + 10 sub-leaves: 6.6's and 6.8's enum ends with
        // XFEATURE_XTILE_DATA (18), so the dump runs from 00 to 1c.
        Assert.Equal((int)XFeature.XtileData + 1 + 10, dmesg.Count(l => l.StartsWith("CPUID[0d, ", StringComparison.Ordinal)));
        Assert.Contains("x86/fpu: XSAVE disabled", dmesg);
        Assert.False(r.GetProperty("xsaveEnabled").GetBoolean());
        Assert.NotEqual("0x0", r.GetProperty("lostFeatures").GetString());

        // 10704 = 576 + every enabled component's size packed, from the log's sub-leaves and CET_U's (0xD.0 EAX | XSS).
        var guest = OpenVmmGuest();
        ulong mask = 0x600e7 | 1UL << (int)XFeature.CetUser;
        int packed = 576 + Enumerable.Range(2, 62).Where(i => (mask >> i & 1) != 0).Sum(i => (int)guest.Leaf(0xD, (uint)i).Eax);
        Assert.Equal(10704, packed);
        string mistake = r.GetProperty("knownMistake").GetString()!;
        Assert.Contains("10704", mistake, StringComparison.Ordinal);
        Assert.Contains("without the 64-byte alignment", mistake, StringComparison.Ordinal);

        var text = CliRunner.Run("boot", "--as-guest", "--cpuid", file, "--kernel", "6.6");
        Assert.Equal(1, text.ExitCode);
        Assert.Contains(OpenVmmWarning, text.Out, StringComparison.Ordinal);
        Assert.Contains("XSAVE disabled", text.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Wsl_guest_with_zero_compacted_size_loses_avx()
    {
        using var dir = new ScratchDirectory("asguest");
        string file = dir.Write("wsl.cpuid", CpuidTextWriter.Write(WslGuest()));
        var (code, output, err) = CliRunner.Run("boot", "--as-guest", "--cpuid", file, "--format", "json");
        Assert.True(code == 1, err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        var dmesg = r.GetProperty("dmesg").EnumerateArray().Select(x => x.GetString()!).ToList();
        // The kernel saves in the compacted format (XSAVEC; XSAVES is cleared for erratum 1386), so it compares
        // 0xD.1 EBX: x87, SSE and AVX compacted = 576 + 256.
        Assert.Contains("XSAVE consistency problem: size 832 != kernel_size 0", dmesg);
        // 6.17 (the default) knows XFEATURE_APX (19), defined for 6.16: XFEATURE_MAX + 10 = 30 sub-leaves dumped.
        Assert.Equal((int)XFeature.Apx + 1 + 10, dmesg.Count(l => l.StartsWith("CPUID[0d, ", StringComparison.Ordinal)));
        Assert.False(r.GetProperty("xsaveEnabled").GetBoolean());
        ulong lost = ulong.Parse(r.GetProperty("lostFeatures").GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.Equal(XFeatureMasks.Ymm, lost & XFeatureMasks.Ymm);
        Assert.Contains("avx", r.GetProperty("lostCpuFeatures").EnumerateArray().Select(x => x.GetString()));
        Assert.Contains("is 0", r.GetProperty("knownMistake").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_as_guest_the_same_dump_boots_with_recomputed_sizes()
    {
        using var dir = new ScratchDirectory("asguest");
        string file = dir.Write("wsl.cpuid", CpuidTextWriter.Write(WslGuest()));
        var (code, output, err) = CliRunner.Run("boot", "--cpuid", file, "--format", "json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("xsaveEnabled").GetBoolean());
        Assert.Equal("0x0", doc.RootElement.GetProperty("lostFeatures").GetString());
    }
}
