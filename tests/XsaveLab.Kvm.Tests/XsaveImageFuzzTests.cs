namespace XsaveLab.Kvm.Tests;

/// <summary>Mutation fuzzing of KVM_SET_XSAVE (<c>fpu_copy_uabi_to_guest_fpstate()</c>) with images KVM_GET_XSAVE2
/// produced on several catalog CPUs (with and without AMX exposed, and one host without XSAVE). Errnos are values:
/// no exception escapes, the same image on the same vCPU gives the same result and the same guest state twice, a
/// refused image leaves the guest state as it was, and an accepted image has XSTATE_BV within KVM's supported XCR0
/// and the guest's user features, XCOMP_BV 0 and a zero reserved header (validate_user_xstate_header()).</summary>
public class XsaveImageFuzzTests
{
    private const int DefaultInputs = 2000;
    private const int Seed = 41_001;

    private static readonly string[] Cpus = ["spr", "zen4-genoa", "skx", "tgl", "zen2-matisse", "nehalem"];

    /// <summary>One system per CPU and AMX choice: each run gets a fresh VM and vCPU on it.</summary>
    private static readonly Lazy<KvmSystem[]> Systems = new(() =>
        [.. Cpus.SelectMany(n => new[] { false, true }.Select(amx =>
        {
            var sys = TestCpus.System(TestCpus.Get(n));
            if (amx)
                sys.ArchPrctl(ArchPrctl.ReqXcompGuestPerm, 18);
            return sys;
        }))]);

    [Fact]
    public void SetXsave_NeverThrows_IsDeterministic_AndAcceptsOnlyValidHeaders()
    {
        int count = Fuzz.Iterations(DefaultInputs), accepted = 0;
        Fuzz.RunBytes("KVM_SET_XSAVE", Fuzz.Seed(Seed), count, Generate, input =>
        {
            if (Check(input))
                Interlocked.Increment(ref accepted);
        });
        Assert.True(accepted >= count / 50 && accepted <= count - count / 50, $"{accepted} of {count} mutated images accepted");
    }

    /// <summary>Inputs that once failed, in the sparse form a failure prints (none yet for this consumer; the
    /// unmutated images of every system are kept here as the baseline that must be accepted).</summary>
    [Fact]
    public void UnmutatedImages_AreAccepted()
    {
        for (int s = 0; s < Systems.Value.Length; s++)
        {
            byte[] image = Image(s, 1, new Random(s));
            Assert.True(Check([(byte)s, 1, .. image]), $"{Cpus[s / 2]} amx={s % 2}");
        }
    }

    /// <summary>Byte 0 picks the system, byte 1 bit 0 whether KVM_SET_CPUID2 ran before (it sizes the guest
    /// fpstate for AMX), then the image.</summary>
    private static byte[] Generate(Random rng)
    {
        int s = rng.Next(Systems.Value.Length);
        int option = rng.Next(256);
        var image = Image(s, option, rng);
        var sys = Systems.Value[s];
        var regions = new List<(int, int)>();
        foreach (var f in new[] { XFeature.Pkru, XFeature.CetUser, XFeature.XtileCfg, XFeature.Pasid })
            if (sys.Kernel.UabiConfig.StandardOffset((int)f) is > 0 and var at)
                regions.Add((at, sys.Kernel.UabiConfig.Size((int)f)));
        return [(byte)s, (byte)option, .. Fuzz.MutateImage(rng, image, regions)];
    }

    /// <summary>KVM_GET_XSAVE2 of a vCPU whose guest registers were set from a random valid image.</summary>
    private static byte[] Image(int s, int option, Random rng)
    {
        var v = NewVcpu(s, option);
        Assert.True(v.GetXsave2(out var image).Ok);
        var sys = Systems.Value[s];
        ulong bv = (ulong)rng.NextInt64() & v.GuestSupportedXcr0 & sys.Caps.SupportedXcr0 & ~XFeatureMasks.Pkru;
        if (sys.Host.XsaveEnabled)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(XsaveOffsets.XstateBv), bv | XFeatureMasks.FpSse);
            var cfg = sys.Kernel.UabiConfig;
            for (ulong m = bv & ~3UL; m != 0; m &= m - 1)
            {
                int i = System.Numerics.BitOperations.TrailingZeroCount(m);
                if (cfg.StandardOffset(i) > 0 && cfg.StandardOffset(i) + cfg.Size(i) <= image.Length && i != (int)XFeature.XtileCfg)
                    rng.NextBytes(image.AsSpan(cfg.StandardOffset(i), cfg.Size(i)));
            }
        }
        rng.NextBytes(image.AsSpan(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize));
        var set = v.SetXsave(image);
        Assert.True(set.Ok, set.ToString());
        Assert.True(v.GetXsave2(out var back).Ok);
        return back;
    }

    private static KvmVcpu NewVcpu(int s, int option)
    {
        var sys = Systems.Value[s];
        var (r, v) = sys.CreateVm().CreateVcpu(0);
        Assert.True(r.Ok, r.ToString());
        if ((option & 1) != 0)
            Assert.True(v!.SetCpuid2(sys.GetSupportedCpuid()).Ok);
        return v!;
    }

    /// <summary>KVM_SET_XSAVE on two fresh vCPUs; returns whether it was accepted.</summary>
    internal static bool Check(byte[] input)
    {
        if (input.Length < 2)
            return false;
        int s = input[0] % Systems.Value.Length;
        var image = input.AsSpan(2).ToArray();
        var (ok1, out1) = RunOnce(s, input[1], image);
        var (ok2, out2) = RunOnce(s, input[1], image);
        if (out1 != out2)
            throw new InvalidOperationException($"same image, different outcome:\n{out1[..Math.Min(300, out1.Length)]}\n{out2[..Math.Min(300, out2.Length)]}");
        var sys = Systems.Value[s];
        if (ok1 && sys.Host.XsaveEnabled)
        {
            ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(XsaveOffsets.XstateBv));
            if ((bv & ~sys.Caps.SupportedXcr0) != 0 || BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(XsaveOffsets.XcompBv)) != 0
                || image.AsSpan(XsaveOffsets.HeaderReserved, XsaveOffsets.HeaderReservedSize).IndexOfAnyExcept((byte)0) >= 0)
                throw new InvalidOperationException($"KVM_SET_XSAVE accepted a header the kernel refuses (XSTATE_BV 0x{bv:x})");
        }
        return ok1;
    }

    private static (bool Ok, string Outcome) RunOnce(int s, int option, byte[] image)
    {
        var v = NewVcpu(s, option);
        Assert.True(v.GetXsave2(out var before).Ok);
        uint pkruBefore = v.Pkru;
        var r = v.SetXsave(image);
        Assert.True(v.GetXsave2(out var after).Ok);
        if (!r.Ok && (!before.AsSpan().SequenceEqual(after) || v.Pkru != pkruBefore))
            throw new InvalidOperationException($"a refused KVM_SET_XSAVE changed the guest state: {r}");
        return (r.Ok, $"{r} {v.Pkru:x} {Convert.ToHexString(after)}");
    }
}
