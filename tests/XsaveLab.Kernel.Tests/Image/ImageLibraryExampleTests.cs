using XsaveLab.Kernel.Image;
using XsaveLab.Tests;

namespace XsaveLab.Kernel.Tests.Image;

/// <summary>The ten-line program of docs/image-kinds.md, run as written on a PTRACE_GETREGSET NT_X86_XSTATE image the
/// kernel model writes for a zen4-genoa task (seeded). The lines between the markers below must be the page's code
/// block, so the page cannot drift from what runs.</summary>
public sealed class ImageLibraryExampleTests : IDisposable
{
    private const int Seed = 12_016;
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-example-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_documented_program_locates_reads_and_writes_registers()
    {
        var cpu = CpuCatalog.Get("zen4-genoa");
        var cfg = UabiConfig.FromSystem(FpuSystem.Boot(cpu));
        var task = UabiRandom.Task(cfg, new Random(Seed), inUse: ulong.MaxValue);
        string path = Path.Combine(_dir, "dump.xstate");
        File.WriteAllBytes(path, PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data);
        string before = XsaveImageFile.Open(path, new XsaveImageOptions(ImageKind.Ptrace, cpu)).Threads[0].ReadRegisterHex("zmm3");

        // example:begin
        var file = XsaveImageFile.Open(path, new XsaveImageOptions(ImageKind.Ptrace, CpuCatalog.Get("zen4-genoa")));
        var image = file.Threads[0];
        var zmmHi256 = image.Layout.Find((int)XFeature.ZmmHi256)!.Value;
        Console.WriteLine($"ZMM_Hi256 at {zmmHi256.Offset}, {zmmHi256.Size} bytes, in use: {image.IsInUse((int)XFeature.ZmmHi256)}");
        Span<byte> upper = image.Locate((int)XFeature.ZmmHi256);
        Console.WriteLine($"zmm3 = {image.ReadRegisterHex("zmm3")}");
        image.WriteRegister("zmm3", [0x2a]);
        File.WriteAllBytes(path + ".edited", image.Bytes);
        // example:end

        // Where CPUID.(EAX=0DH,ECX=6) puts ZMM_Hi256 in the standard format, and its size.
        var standard = XStateLayout.Standard(cpu, cfg.UserMaxFeatures);
        Assert.Equal(standard.OffsetOf((int)XFeature.ZmmHi256), zmmHi256.Offset);
        Assert.Equal(upper.Length, zmmHi256.Size);
        Assert.True(before != "0x" + new string('0', 128), "the seeded task has zmm3 in use");

        var edited = XsaveImageFile.Open(path + ".edited", new XsaveImageOptions(ImageKind.Ptrace, cpu)).Threads[0];
        Assert.Equal("0x" + new string('0', 126) + "2a", edited.ReadRegisterHex("zmm3"));
        Assert.Equal(XsaveImageFile.Open(path, new XsaveImageOptions(ImageKind.Ptrace, cpu)).Threads[0].ReadRegisterHex("zmm4"),
            edited.ReadRegisterHex("zmm4"));
    }

    [Fact]
    public void The_page_shows_exactly_the_lines_that_run()
    {
        string source = File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "XsaveLab.Kernel.Tests", "Image", "ImageLibraryExampleTests.cs"));
        var run = Between(source, "// example:begin", "// example:end").Select(l => l.Trim()).ToList();
        string page = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "image-kinds.md"));
        var shown = Between(page, "```csharp", "```").Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal)).ToList();
        Assert.Equal(run, shown);
        Assert.True(shown.Count <= 10, $"{shown.Count} lines");
    }

    private static IEnumerable<string> Between(string text, string begin, string end)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int from = lines.FindIndex(l => l.Trim() == begin);
        int to = lines.FindIndex(from + 1, l => l.Trim() == end);
        Assert.True(from >= 0 && to > from, $"markers {begin} … {end} not found");
        return lines.Skip(from + 1).Take(to - from - 1);
    }
}
