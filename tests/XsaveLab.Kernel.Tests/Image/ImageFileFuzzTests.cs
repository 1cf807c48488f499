using XsaveLab.Kernel.Image;

namespace XsaveLab.Kernel.Tests.Image;

/// <summary>Mutation fuzzing of <see cref="XsaveImageFile"/> over every kind of file it reads: ELF cores (with and
/// without NT_X86_XSAVE_LAYOUT, several threads), ptrace and KVM images, signal frames and compacted images, each
/// truncated, resized and bit-flipped, read with and without a CPU. Every input gives images whose every register
/// reads, or one error naming the field and its offset; nothing throws. Seeded (FUZZ_SEED), FUZZ_ITERATIONS inputs.</summary>
public sealed class ImageFileFuzzTests(ITestOutputHelper output)
{
    private const int DefaultInputs = 1500;
    private const int DefaultSeed = 12_012;

    private static readonly string[] Cpus = ["zen4-genoa", "spr", "skx", "zen2-matisse"];

    private static readonly Lazy<UabiConfig[]> Configs = new(() => [.. Cpus.Select(n => UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get(n))))]);

    [Fact]
    public void MutatedFiles_GiveRegistersOrOneErrorNamingFieldAndOffset()
    {
        int seed = Fuzz.Seed(DefaultSeed), count = Fuzz.Iterations(DefaultInputs), accepted = 0;
        Fuzz.RunBytes("image file", seed, count, Generate, input =>
        {
            if (Check(input))
                Interlocked.Increment(ref accepted);
        });
        output.WriteLine($"seed {seed}: {count} inputs, {accepted} read, {count - accepted} refused");
        // The mutations reach past the first checks: some files are read, some refused.
        Assert.True(accepted >= count / 50 && accepted <= count - count / 50, $"{accepted} of {count} mutated files read");
    }

    /// <summary>Input layout: byte 0 the kind to declare (0: none), byte 1 the CPU to give (0: none), then the file.</summary>
    private static byte[] Generate(Random rng)
    {
        int c = rng.Next(Cpus.Length);
        var cfg = Configs.Value[c];
        var task = UabiRandom.Task(cfg, rng);
        byte[] ptrace = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        ImageKind kind;
        byte[] file;
        switch (rng.Next(5))
        {
            case 0:
                kind = ImageKind.Ptrace;
                file = ptrace;
                break;
            case 1:
                kind = ImageKind.Sigframe;
                file = new byte[SigframeSizes.XstateSigframeSize(cfg, task.Fpstate)];
                Sigframes.CopyFpstateToSigframe(cfg, task, file);
                break;
            case 2:
                kind = ImageKind.Kvm;
                file = [.. ptrace, .. new byte[Math.Max(0, 4096 - ptrace.Length)]];
                break;
            case 3:
                var img = XsaveImageFile.Open(ptrace, new XsaveImageOptions(ImageKind.Ptrace, cfg.Cpu)).Threads[0];
                var conv = ImageConverter.Convert(img, cfg.Cpu, compacted: cfg.Cpu.HasXsavec);
                kind = conv.Image.Kind;
                file = conv.Image.Bytes;
                break;
            default:
                kind = ImageKind.Core;
                file = Core(cfg, rng, ptrace);
                break;
        }
        var regions = new List<(int, int)> { (XsaveOffsets.SwReserved, XsaveOffsets.SwReservedSize), (XsaveOffsets.Header, XsaveOffsets.HeaderSize) };
        var mutated = kind == ImageKind.Core && rng.Next(2) == 0 ? Mutate(rng, file) : Fuzz.MutateImage(rng, file, regions);
        return [(byte)(rng.Next(3) == 0 ? 0 : (int)kind + 1), (byte)(rng.Next(2) == 0 ? 0 : c + 1), .. mutated];
    }

    /// <summary>A notes-only core of one to three threads (NT_PRSTATUS + NT_X86_XSTATE each), with the layout note half the time.</summary>
    private static byte[] Core(UabiConfig cfg, Random rng, byte[] xstate)
    {
        var notes = new List<ElfNote>();
        for (int t = 0, n = rng.Next(1, 4); t < n; t++)
        {
            var prstatus = new byte[336];
            BinaryPrimitives.WriteInt32LittleEndian(prstatus.AsSpan(32), 1000 + t);
            notes.Add(new ElfNote(ElfNote.CoreOwner, NoteType.NtPrstatus, prstatus));
            notes.Add(new ElfNote(ElfNote.LinuxOwner, NoteType.NtX86Xstate, xstate));
        }
        if (rng.Next(2) == 0 && XsaveLayoutNote.Create(cfg) is { } layout)
            notes.Add(layout);
        return ElfCoreFile.WriteNotesOnly(notes);
    }

    /// <summary>Byte-level damage anywhere in a core: flips, 32-bit sizes set to extremes, truncation.</summary>
    private static byte[] Mutate(Random rng, byte[] file)
    {
        var b = (byte[])file.Clone();
        for (int k = rng.Next(1, 5); k > 0; k--)
        {
            int at = rng.Next(b.Length);
            switch (rng.Next(3))
            {
                case 0: b[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1 when at + 4 <= b.Length: BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), rng.Next(2) == 0 ? uint.MaxValue : (uint)rng.Next(1 << 16)); break;
                default: b = b[..at]; break;
            }
        }
        return b;
    }

    /// <summary>Reads the file as the input says; true when it was read. Throws when an exception escapes, an error
    /// does not name a field and offset, or a register of a file that was read cannot be read.</summary>
    private static bool Check(byte[] input)
    {
        if (input.Length < 2)
            return false;
        ImageKind? kind = input[0] == 0 ? null : (ImageKind)((input[0] - 1) % Enum.GetValues<ImageKind>().Length);
        var cpu = input[1] == 0 ? null : Configs.Value[(input[1] - 1) % Cpus.Length].Cpu;
        var r = XsaveImageFile.Read(input[2..], "fuzz", new XsaveImageOptions(kind, cpu));
        if (r.Error is { } e)
        {
            if (!e.ToString().StartsWith("fuzz", StringComparison.Ordinal) || !e.ToString().Contains(" at offset ", StringComparison.Ordinal) || e.Offset < 0)
                throw new InvalidOperationException($"error without a field and offset: {e}");
            return false;
        }
        foreach (var t in r.File!.Threads)
        {
            foreach (var reg in t.Registers)
                if (t.ReadRegisterHex(reg.Name).Length != 2 + (reg.Bits + 3) / 4)
                    throw new InvalidOperationException($"{reg.Name}: wrong width");
            foreach (var c in t.Layout.Components)
                _ = t.Locate(c.Number).Length;
        }
        return true;
    }
}
