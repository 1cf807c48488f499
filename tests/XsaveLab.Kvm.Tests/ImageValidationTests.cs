using XsaveLab.Kernel.Uabi;
using XsaveLab.Kvm.Image;

namespace XsaveLab.Kvm.Tests;

/// <summary><see cref="ImageValidation.Validate"/>: the entry point takes any bytes (seeded mutation fuzzing of
/// model-written images on several catalog CPUs, every consumer), and the byte it blames is the byte that was
/// broken, whichever consumer is asked.</summary>
public class ImageValidationTests
{
    private const int DefaultInputs = 300;
    private const int Seed = 12_001;

    private static readonly string[] Cpus = ["spr", "zen4-genoa", "skx", "zen2-matisse"];

    /// <summary>A valid signal-frame fpstate (MAGIC2 after it) as the kernel model writes it for a fresh task.</summary>
    private static byte[] Frame(UabiConfig cfg)
    {
        var task = new UabiTask(cfg.NewDefaultFpstate(), cfg.OsPke ? UabiTask.InitPkruValue : 0);
        var frame = new byte[task.Fpstate.UserSize + SigframeSizes.Magic2Size];
        Sigframes.CopyFpstateToSigframe(cfg, task, frame);
        return frame;
    }

    [Fact]
    public void Validate_NeverThrows_IsDeterministic_AndBlamesAByteOfTheImageOrItsEnd()
    {
        var bases = Cpus.Select(n => CpuCatalog.Get(n)).Select(cpu => (Cpu: cpu, Cfg: UabiConfig.Derive(cpu))).ToArray();
        int count = Fuzz.Iterations(DefaultInputs), accepted = 0;
        Fuzz.RunBytes("image validate", Fuzz.Seed(Seed), count, rng =>
        {
            int c = rng.Next(bases.Length), k = rng.Next(ImageConsumers.All.Count);
            var (_, cfg) = bases[c];
            var image = k == (int)ImageConsumer.Sigreturn ? Frame(cfg) : UabiRandom.XstateImage(cfg, rng.Next());
            return [(byte)c, (byte)k, .. Fuzz.MutateImage(rng, image, [])];
        }, input =>
        {
            if (input.Length < 2)
                return;
            var cpu = bases[input[0] % bases.Length].Cpu;
            var consumer = ImageConsumers.All[input[1] % ImageConsumers.All.Count];
            var image = input.AsSpan(2);
            var v = ImageValidation.Validate(image, consumer, cpu);
            Assert.Equal(v, ImageValidation.Validate(image, consumer, cpu));
            Assert.False(string.IsNullOrEmpty(v.Rule));
            Assert.False(string.IsNullOrEmpty(v.Path));
            Assert.Equal(image.Length, v.Length);
            if (v.Offset is int at)
                Assert.InRange(at, 0, image.Length);
            if (v.Accepted)
                Interlocked.Increment(ref accepted);
        });
        Assert.True(accepted >= count / 50 && accepted <= count - count / 50, $"{accepted} of {count} mutated images accepted");
    }

    public static TheoryData<string, ImageConsumer> Cases()
    {
        var data = new TheoryData<string, ImageConsumer>();
        foreach (var n in Cpus)
            foreach (var c in ImageConsumers.All)
                data.Add(n, c);
        return data;
    }

    /// <summary>A reserved header byte (byte 18 of the header: XRSTOR's standard form wants bytes 8..23 zero, the
    /// kernel's validate_user_xstate_header() bytes 16..63) is refused by every consumer at that byte, and the
    /// unbroken image is accepted.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void A_reserved_header_byte_is_blamed_by_every_consumer(string cpuName, ImageConsumer consumer)
    {
        var cpu = CpuCatalog.Get(cpuName);
        var cfg = UabiConfig.Derive(cpu);
        var image = consumer == ImageConsumer.Sigreturn ? Frame(cfg) : UabiRandom.XstateImage(cfg, 7);
        if (consumer == ImageConsumer.Kvm)
            Array.Resize(ref image, Math.Max(image.Length, KvmAbi.XsaveStructSize));
        if (consumer == ImageConsumer.Xrstors)
        {
            // XRSTORS takes the compacted form only: every enabled component in its initial configuration.
            var sys = XsaveLab.Kernel.Boot.FpuSystem.Boot(cpu);
            ulong enabled = sys.Xcr0 | sys.Xss;
            image = new byte[XStateGeometry.Size(cpu, enabled, true)];
            BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(XsaveOffsets.XcompBv), XFeatureMasks.CompactedFormat | enabled);
        }
        var ok = ImageValidation.Validate(image, consumer, cpu);
        Assert.True(ok.Accepted, $"{ok.Outcome}: {ok.Rule}");
        const int at = XsaveOffsets.Header + 18;
        image[at] = 0x40;
        var bad = ImageValidation.Validate(image, consumer, cpu);
        Assert.False(bad.Accepted, bad.Rule);
        Assert.Equal(at, bad.Offset);
    }
}
