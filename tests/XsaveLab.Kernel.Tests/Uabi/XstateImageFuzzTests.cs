namespace XsaveLab.Kernel.Tests.Uabi;

/// <summary>Mutation fuzzing of every kernel path that takes an XSAVE image from user space or a file:
/// PTRACE_SETREGSET of NT_X86_XSTATE and NT_PRFPREG, rt_sigreturn (64-bit and ia32 frames), copy_uabi_to_xstate and
/// the core-note decoder. Seeds are images the model produced (regset GET, signal frames, XSAVE/XSAVEC/XSAVES of the
/// instruction model) on several catalog CPUs. Errnos and SIGSEGV are values: no exception escapes (the core decoder
/// refuses with a one-line <see cref="FormatException"/>), the same image on the same task gives the same result and
/// the same task state twice, a refused ptrace SET leaves the task as it was, and an image copy_uabi_to_xstate
/// accepts has XSTATE_BV within user_xfeatures, XCOMP_BV 0 and a zero reserved header.</summary>
public class XstateImageFuzzTests
{
    private const int DefaultInputs = 2000;
    private const int TaskSeed = 313;

    private static readonly string[] Cpus = ["spr", "zen4-genoa", "skx", "tgl", "zen2-matisse"];

    private static readonly Lazy<UabiConfig[]> Configs = new(() => [.. Cpus.Select(n => UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get(n))))]);

    public enum Consumer { SetXstate, SetFpregs, Sigreturn, Ia32Sigreturn, CopyUabiToXstate, CoreDecoder }

    [Theory]
    [InlineData(Consumer.SetXstate, 31_001)]
    [InlineData(Consumer.SetFpregs, 31_002)]
    [InlineData(Consumer.Sigreturn, 31_003)]
    [InlineData(Consumer.Ia32Sigreturn, 31_004)]
    [InlineData(Consumer.CopyUabiToXstate, 31_005)]
    [InlineData(Consumer.CoreDecoder, 31_006)]
    public void MutatedImages_NeverThrow_AndGiveTheSameAnswerTwice(Consumer consumer, int seed)
    {
        int count = Fuzz.Iterations(DefaultInputs), accepted = 0;
        Fuzz.RunBytes(consumer.ToString(), Fuzz.Seed(seed), count, rng => Generate(rng, consumer), input =>
        {
            if (Check(consumer, input))
                Interlocked.Increment(ref accepted);
        });
        // The mutations reach past the first checks: some images are accepted, some refused.
        Assert.True(accepted >= count / 50 && accepted <= count - count / 50, $"{consumer}: {accepted} of {count} mutated images accepted");
    }

    private const string RegressionFolder = "Uabi/ImageFuzzRegressions";

    public static TheoryData<string> Regressions() => FuzzRegressions.Files(RegressionFolder, "*.hex");

    /// <summary>Inputs that once failed (file name: consumer, then what was wrong), in the form a failure prints.</summary>
    [Theory]
    [MemberData(nameof(Regressions))]
    public void OnceFailingInputs_AreAnsweredOrRefused(string file)
    {
        var consumer = Enum.Parse<Consumer>(file[..file.IndexOf('-', StringComparison.Ordinal)]);
        byte[] input = Fuzz.ParseSparse(FuzzRegressions.Text(RegressionFolder, file));
        Assert.Null(Fuzz.Failure(input, i => Check(consumer, i), Fuzz.Limits.Default));
    }

    /// <summary>Input layout: byte 0 picks the CPU, byte 1 a consumer-specific option, bytes 2..3 the length of a
    /// NT_X86_XSAVE_LAYOUT descriptor that follows (core decoder only), then the image.</summary>
    private static byte[] Generate(Random rng, Consumer consumer)
    {
        int cpu = rng.Next(Cpus.Length);
        var cfg = Configs.Value[cpu];
        var task = UabiRandom.Task(cfg, rng);
        byte[] image;
        switch (consumer)
        {
            case Consumer.Sigreturn:
                image = new byte[SigframeSizes.XstateSigframeSize(cfg, task.Fpstate)];
                Sigframes.CopyFpstateToSigframe(cfg, task, image);
                break;
            case Consumer.Ia32Sigreturn:
                image = new byte[Ia32Sigframes.FrameSize(task.Fpstate)];
                Ia32Sigframes.CopyFpstateToSigframe(cfg, task, image);
                break;
            case Consumer.SetFpregs:
                image = PtraceRegsets.Get(cfg, task, NoteType.NtPrfpreg, PtraceRegsets.Length(cfg, NoteType.NtPrfpreg)).Data;
                break;
            default:
                image = rng.Next(4) == 0 ? InstructionImage(cfg, rng) : PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
                break;
        }
        var mutated = Fuzz.MutateImage(rng, image, Regions(cfg));
        byte[] layout = [];
        if (consumer == Consumer.CoreDecoder && rng.Next(2) == 0 && XsaveLayoutNote.Create(cfg) is { } note)
            layout = rng.Next(2) == 0 ? note.Desc : Fuzz.MutateImage(rng, note.Desc, [(0, note.Desc.Length)]);
        layout = layout[..Math.Min(layout.Length, ushort.MaxValue)];
        return [(byte)cpu, (byte)rng.Next(256), (byte)layout.Length, (byte)(layout.Length >> 8), .. layout, .. mutated];
    }

    /// <summary>An image saved by the instruction model (XSAVE, XSAVEC or XSAVES) of random registers.</summary>
    private static byte[] InstructionImage(UabiConfig cfg, Random rng)
    {
        var cpu = new XsaveCpu(cfg.Cpu) { OsXsave = true, Cpl = 0 };
        ulong xcr0 = cfg.Cpu.SupportedXcr0;
        if ((xcr0 & XFeatureMasks.Mpx) != XFeatureMasks.Mpx)
            xcr0 &= ~XFeatureMasks.Mpx; // XSETBV takes both MPX bits or neither
        _ = cpu.Xsetbv(0, xcr0);
        if (cfg.Cpu.HasXsaves)
            _ = cpu.Wrmsr(Msr.IA32_XSS, cfg.Cpu.SupportedXss);
        for (ulong m = cpu.Enumerated & cpu.Xcr0 & ~(XFeatureMasks.Fp | XFeatureMasks.Pkru | XFeatureMasks.CetUser | XFeatureMasks.CetKernel); m != 0; m &= m - 1)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(m);
            var data = new byte[cpu.Read(i).Length];
            rng.NextBytes(data);
            _ = cpu.Write(i, data);
        }
        var area = new byte[Math.Max(cfg.UserMaxSize, (int)cfg.Cpu.Leaf(0xD, 0).Ecx) + 4096];
        var fault = rng.Next(3) switch
        {
            0 when cfg.Cpu.HasXsavec => cpu.Xsavec(area, 0x1000, ~0UL),
            1 when cfg.Cpu.HasXsaves => cpu.Xsaves(area, 0x1000, ~0UL),
            _ => cpu.Xsave(area, 0x1000, ~0UL),
        };
        Assert.False(fault.IsFault, fault.ToString());
        return area[..Math.Max(cfg.UserMaxSize, XsaveOffsets.ExtendedStart)];
    }

    /// <summary>Standard-form offsets of the components whose contents have rules of their own.</summary>
    private static List<(int, int)> Regions(UabiConfig cfg) =>
        [.. new[] { XFeature.Pkru, XFeature.CetUser, XFeature.CetKernel, XFeature.XtileCfg, XFeature.Pasid }
            .Where(f => cfg.StandardOffset((int)f) > 0 && cfg.Size((int)f) > 0)
            .Select(f => (cfg.StandardOffset((int)f), cfg.Size((int)f)))];

    /// <summary>Runs <paramref name="consumer"/> twice on identical fresh tasks; returns whether the image was
    /// accepted. Throws on an escaped exception, a difference between the runs, or a broken cross-check.</summary>
    internal static bool Check(Consumer consumer, byte[] input)
    {
        var first = RunOnce(consumer, input);
        var second = RunOnce(consumer, input);
        if (first.Outcome != second.Outcome || first.State != second.State)
            throw new InvalidOperationException($"same input, different outcome: {first.Outcome} / {second.Outcome}");
        return first.Accepted;
    }

    private static (bool Accepted, string Outcome, string State) RunOnce(Consumer consumer, byte[] input)
    {
        if (input.Length < 4)
            return (false, "short input", "");
        var cfg = Configs.Value[input[0] % Cpus.Length];
        int layoutLength = Math.Min(input[2] | input[3] << 8, input.Length - 4);
        var layout = input.AsSpan(4, layoutLength);
        byte[] image = input[(4 + layoutLength)..];
        var task = UabiRandom.Task(cfg, new Random(TaskSeed + input[1]));
        var before = task.Clone();
        bool accepted;
        string outcome;
        switch (consumer)
        {
            case Consumer.SetXstate:
            case Consumer.SetFpregs:
                var r = PtraceRegsets.Set(cfg, task, consumer == Consumer.SetXstate ? NoteType.NtX86Xstate : NoteType.NtPrfpreg, image);
                if (!r.Ok && (!before.Fpstate.Buffer.AsSpan().SequenceEqual(task.Fpstate.Buffer) || before.Pkru != task.Pkru))
                    throw new InvalidOperationException($"a refused SETREGSET changed the task: {r.Result}");
                (accepted, outcome) = (r.Ok, $"{r.Result} {r.IovLen}");
                break;
            case Consumer.Sigreturn:
                var s = Sigframes.FpuRestoreSig(cfg, task, image);
                (accepted, outcome) = (s.Ok, s.ToString());
                break;
            case Consumer.Ia32Sigreturn:
                var s32 = Ia32Sigframes.FpuRestoreSig(cfg, task, image);
                (accepted, outcome) = (s32.Ok, s32.ToString());
                break;
            case Consumer.CopyUabiToXstate:
                uint pkru = task.Pkru;
                var c = XstateUabi.CopyUabiToXstate(cfg, task.Fpstate, image, ref pkru, updatePkru: (input[1] & 1) != 0);
                if (c.Ok && image.Length >= XsaveOffsets.ExtendedStart)
                {
                    ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(XsaveOffsets.XstateBv));
                    if ((bv & ~task.Fpstate.UserXfeatures) != 0 || BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(XsaveOffsets.XcompBv)) != 0
                        || image.AsSpan(XsaveOffsets.HeaderReserved, XsaveOffsets.HeaderReservedSize).IndexOfAnyExcept((byte)0) >= 0)
                        throw new InvalidOperationException($"copy_uabi_to_xstate accepted a header validate_user_xstate_header refuses (XSTATE_BV 0x{bv:x})");
                }
                (accepted, outcome) = (c.Ok, $"{c} pkru {pkru:x}");
                break;
            default:
                try
                {
                    var notes = new List<ElfNote> { new(ElfNote.LinuxOwner, NoteType.NtX86Xstate, image) };
                    if (layoutLength > 0)
                        notes.Add(new(ElfNote.LinuxOwner, NoteType.NtX86XsaveLayout, layout.ToArray()));
                    var d = XstateCoreDecoder.Decode(notes, xcr0 => XsaveLayoutNote.Records(cfg).Where(x => (xcr0 >> (int)x.Type & 1) != 0).ToArray());
                    (accepted, outcome) = (true, $"{d.Xcr0:x} {d.XstateBv:x} {d.Source} " + string.Join(',', d.Components.Select(x => $"{x.Number}@{x.Offset}:{x.InUse}:{Convert.ToHexString(x.Bytes)}")));
                }
                catch (FormatException e)
                {
                    if (e.Message.Any(char.IsControl) || e.Message.Length > 300)
                        throw new InvalidOperationException($"refusal is not one short line: {e.Message[..Math.Min(200, e.Message.Length)]}");
                    (accepted, outcome) = (false, e.Message);
                }
                break;
        }
        return (accepted, outcome, $"{Convert.ToHexString(task.Fpstate.Buffer)} {task.Pkru:x} {task.Fpstate.XstateBv:x}");
    }
}
