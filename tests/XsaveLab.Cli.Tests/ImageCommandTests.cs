using XsaveLab.Kernel.Uabi;

namespace XsaveLab.Cli.Tests;

/// <summary><c>image decode|convert|diff</c> on images the kernel model writes (PTRACE_GETREGSET NT_X86_XSTATE of a
/// random task), checked against the bytes at the offsets CPUID leaf 0xD gives (<see cref="XStateLayout"/>).</summary>
public sealed class ImageCommandTests : IDisposable
{
    private readonly ScratchDirectory _dir = new("xsavelab-image-");

    public void Dispose() => _dir.Dispose();

    /// <summary>A ptrace image of a task with every user component in use on <paramref name="cpu"/>.</summary>
    internal static byte[] PtraceImage(string cpu, int seed)
    {
        var cfg = UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get(cpu)));
        var task = UabiRandom.Task(cfg, new Random(seed), ~0UL);
        return PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
    }

    private string Save(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Hex(ReadOnlySpan<byte> littleEndian)
    {
        var b = littleEndian.ToArray();
        Array.Reverse(b);
        return "0x" + Convert.ToHexStringLower(b);
    }

    [Theory]
    [InlineData("zen4-genoa", 501)]
    [InlineData("spr", 502)]
    public void Decode_Json_GivesEachRegisterFromItsCpuidOffset(string cpu, int seed)
    {
        var image = PtraceImage(cpu, seed);
        var r = CliRunner.Run("image", "decode", Save("x.bin", image), "--kind", "ptrace", "--cpu", cpu, "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        Assert.Equal("ptrace", root.GetProperty("kind").GetString());
        Assert.Equal("cpu", root.GetProperty("layout").GetProperty("origin").GetString());
        var regs = root.GetProperty("threads")[0].GetProperty("registers");
        var p = CpuCatalog.Get(cpu);
        var layout = XStateLayout.Standard(p, p.SupportedXcr0);
        int hi16 = layout.OffsetOf((int)XFeature.Hi16Zmm), zh = layout.OffsetOf((int)XFeature.ZmmHi256), ymm = layout.OffsetOf((int)XFeature.Ymm);
        int k = layout.OffsetOf((int)XFeature.Opmask);
        Assert.Equal(Hex(image.AsSpan(hi16 + 64, 64)), regs.GetProperty("zmm17").GetString());
        Assert.Equal(Hex([.. image.AsSpan(XsaveOffsets.Xmm(3), 16), .. image.AsSpan(ymm + 48, 16), .. image.AsSpan(zh + 96, 32)]), regs.GetProperty("zmm3").GetString());
        Assert.Equal(Hex([.. image.AsSpan(XsaveOffsets.Xmm(5), 16), .. image.AsSpan(ymm + 80, 16)]), regs.GetProperty("ymm5").GetString());
        Assert.Equal(Hex(image.AsSpan(k + 8, 8)), regs.GetProperty("k1").GetString());
        Assert.Equal(Hex(image.AsSpan(XsaveOffsets.Mxcsr, 4)), regs.GetProperty("mxcsr").GetString());
    }

    [Fact]
    public void Decode_WithoutCpu_NamesEveryCatalogCpuTheSizeFits()
    {
        var image = PtraceImage("zen4-genoa", 503);
        var r = CliRunner.Run("image", "decode", Save("x.bin", image), "--kind", "ptrace", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var layout = doc.RootElement.GetProperty("layout");
        Assert.Equal("size", layout.GetProperty("origin").GetString());
        var names = layout.GetProperty("candidates").EnumerateArray().Select(e => e.GetString()!).ToList();
        ulong xcr0 = BitConverter.ToUInt64(image, XsaveOffsets.SwReserved);
        var expected = CpuCatalog.All.Where(c => c.HasXsave && (xcr0 & ~c.SupportedXcr0) == 0
            && XStateGeometry.Size(c, xcr0, false) == image.Length).Select(c => c.Name).ToList();
        Assert.Equal(expected, names);
        Assert.Contains("zen4-genoa", names);
    }

    [Theory]
    [InlineData(100, "image at offset 0")]
    [InlineData(600, "image size at offset 0")]
    public void Decode_BadImage_IsOneErrorNamingFileFieldAndOffset(int length, string field)
    {
        var image = PtraceImage("spr", 504).AsSpan(0, length).ToArray();
        string path = Save("bad.bin", image);
        string line = CliRunner.OneError(CliRunner.Run("image", "decode", path, "--kind", "ptrace"));
        Assert.StartsWith($"error: {path}: {field}", line);
    }

    [Fact]
    public void Convert_ThenDiff_FindsTheSameRegisters_AndDiffNamesAChangedOne()
    {
        var image = PtraceImage("zen4-genoa", 505);
        string src = Save("genoa.bin", image), cmp = Path.Combine(_dir.Path, "spr-compacted.bin");
        var r = CliRunner.Run("image", "convert", src, "--kind", "ptrace", "--from-cpu", "zen4-genoa", "--to", "compacted", "--to-cpu", "spr", "-o", cmp, "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using (var doc = JsonDocument.Parse(r.Out))
        {
            var opmask = doc.RootElement.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("nr").GetInt32() == 5);
            Assert.Equal("moved", opmask.GetProperty("fate").GetString());
            Assert.Equal(XStateLayout.CompactedForm(CpuCatalog.Get("spr"), BitConverter.ToUInt64(File.ReadAllBytes(cmp), XsaveOffsets.XcompBv)).OffsetOf(5),
                opmask.GetProperty("to").GetInt32());
        }
        var same = CliRunner.Run("image", "diff", src, cmp, "--kind", "ptrace", "--cpu", "zen4-genoa", "--kind-b", "xsavec", "--cpu-b", "spr");
        Assert.True(same.ExitCode == 0, same.ToString());

        var changed = (byte[])image.Clone();
        var layout = XStateLayout.Standard(CpuCatalog.Get("zen4-genoa"), CpuCatalog.Get("zen4-genoa").SupportedXcr0);
        changed[layout.OffsetOf((int)XFeature.Opmask) + 2 * 8] ^= 0x10;
        var d = CliRunner.Run("image", "diff", src, Save("changed.bin", changed), "--kind", "ptrace", "--cpu", "zen4-genoa", "--format", "json");
        Assert.True(d.ExitCode == 1, d.ToString());
        using var diff = JsonDocument.Parse(d.Out);
        var regs = diff.RootElement.GetProperty("differences").EnumerateArray().Select(e => e.GetProperty("register").GetString()).ToList();
        Assert.Equal(["k2"], regs);
    }

    [Fact]
    public void Convert_BadTarget_WritesNothing()
    {
        string src = Save("genoa.bin", PtraceImage("zen4-genoa", 506)), outPath = Path.Combine(_dir.Path, "out.bin");
        string line = CliRunner.OneError(CliRunner.Run("image", "convert", src, "--kind", "ptrace", "--to", "compacted", "--to-cpu", "haswell", "-o", outPath));
        Assert.Contains("haswell has no XSAVEC", line);
        Assert.False(File.Exists(outPath));
    }
}
