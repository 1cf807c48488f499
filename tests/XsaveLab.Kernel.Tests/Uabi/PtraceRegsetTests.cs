namespace XsaveLab.Kernel.Tests.Uabi;

public class PtraceRegsetTests
{
    private const int Cases = 60;

    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Get_image_is_standard_format_with_xcr0_at_464_and_only_user_bits(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        foreach (var (seed, _, task) in UabiFixtures.RandomTasks(cfg, Cases))
        {
            var r = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, 16384);
            Assert.True(r.Ok, $"seed {seed}: {r.Rule}");
            Assert.Equal(cfg.UserMaxSize, r.IovLen);
            var img = r.Data;
            Assert.Equal(cfg.UserMaxFeatures, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(464)));
            Assert.True(img.AsSpan(472, 40).IndexOfAnyExcept((byte)0) < 0, $"seed {seed}: sw_reserved beyond XCR0 not zero");
            ulong bv = BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(512));
            Assert.Equal(task.Fpstate.XstateBv & task.Fpstate.UserXfeatures, bv);
            Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(520)));
            Assert.True(img.AsSpan(528, 48).IndexOfAnyExcept((byte)0) < 0);
            // Every extended feature: the buffer's bytes when in use, zeros (its init state) otherwise.
            foreach (int i in cfg.ExtendedInOrder(cfg.UserMaxFeatures))
            {
                var got = img.AsSpan(cfg.StandardOffset(i), cfg.Size(i));
                if ((bv >> i & 1) != 0 && i != (int)XFeature.Pkru)
                    Assert.True(got.SequenceEqual(task.Fpstate.Buffer.AsSpan(cfg.KernelOffset(task.Fpstate.XcompBv, i), cfg.Size(i))), $"seed {seed} comp {i}");
                else if (i != (int)XFeature.Pkru)
                    Assert.True(got.IndexOfAnyExcept((byte)0) < 0, $"seed {seed} comp {i} not zero in init state");
            }
            // Absent x87 reads as init_fpstate's FCW 0x37F.
            if ((bv & XFeatureMasks.Fp) == 0)
                Assert.Equal(0x37F, BinaryPrimitives.ReadUInt16LittleEndian(img));
        }
    }

    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Get_set_get_is_the_identity(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        foreach (var (seed, _, task) in UabiFixtures.RandomTasks(cfg, Cases))
        {
            var sup = UabiFixtures.SupervisorBytes(cfg, task);
            var first = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
            var set = PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, first);
            Assert.True(set.Ok, $"seed {seed}: {set.Rule}");
            var second = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
            Assert.True(first.AsSpan().SequenceEqual(second), $"seed {seed}: get→set→get changed the image");
            Assert.Equal(UabiFixtures.Hex(sup), UabiFixtures.Hex(UabiFixtures.SupervisorBytes(cfg, task)));
        }
    }

    [SkippableTheory]
    [MemberData(nameof(UabiFixtures.Cpus), MemberType = typeof(UabiFixtures))]
    public void Random_images_written_by_set_read_back_identically(string cpu)
    {
        var cfg = UabiFixtures.RequireConfig(cpu);
        for (int seed = 0; seed < Cases; seed++)
        {
            var rng = new Random(1000 + seed);
            var task = UabiFixtures.RandomTask(cfg, rng);
            var source = UabiFixtures.RandomTask(cfg, rng);
            var img = PtraceRegsets.Get(cfg, source, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
            Assert.True(PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, img).Ok);
            Assert.True(img.AsSpan().SequenceEqual(PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data), $"seed {1000 + seed}");
        }
    }

    public static IEnumerable<object[]> Malformations() =>
        Enum.GetNames<RegsetMalformation>().Select(n => new object[] { n });

    [SkippableTheory]
    [MemberData(nameof(Malformations))]
    public void Malformed_setregset_is_rejected_with_the_kernels_errno_and_changes_nothing(string which)
    {
        var m = Enum.Parse<RegsetMalformation>(which);
        // The rule each malformation breaks decides the errno (ptrace_regset / xstateregs_set / copy_uabi_to_xstate).
        var expected = m is RegsetMalformation.ShortBuffer512 or RegsetMalformation.OneQwordShort ? Errno.EFAULT : Errno.EINVAL;
        int checkedCpus = 0;
        foreach (var row in UabiFixtures.Cpus())
        {
            var cfg = UabiFixtures.Config((string)row[0]);
            if (cfg is null)
                continue;
            foreach (var (seed, _, task) in UabiFixtures.RandomTasks(cfg, 20))
            {
                var img = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
                var bad = RegsetMalformations.Build(cfg, img, m);
                if (bad is null)
                    continue;
                var before = task.Clone();
                var r = PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, bad);
                Assert.True(expected == r.Errno, $"{row[0]} seed {seed} {m}: expected {expected}, got {r.Errno} ({r.Rule})");
                Assert.True(before.Fpstate.Buffer.AsSpan().SequenceEqual(task.Fpstate.Buffer), $"{row[0]} seed {seed} {m}: buffer changed");
                Assert.Equal(before.Pkru, task.Pkru);
            }
            checkedCpus++;
        }
        Skip.If(checkedCpus == 0, "no XSAVE configuration available");
    }

    [SkippableFact]
    public void Oversized_iov_is_clamped_and_accepted()
    {
        var cfg = UabiFixtures.AnyConfig();
        var task = UabiFixtures.RandomTask(cfg, new Random(7));
        var img = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        var big = img.Concat(new byte[8192 - img.Length]).ToArray();
        var r = PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, big);
        Assert.True(r.Ok, r.Rule);
        Assert.Equal(cfg.UserMaxSize, r.IovLen);
    }

    [SkippableFact]
    public void Prfpreg_set_validates_size_and_mxcsr_and_marks_fp_sse_in_use()
    {
        var cfg = UabiFixtures.AnyConfig();
        var task = UabiFixtures.RandomTask(cfg, new Random(3), inUse: 0);
        var fx = PtraceRegsets.Get(cfg, task, NoteType.NtPrfpreg, 512);
        Assert.Equal(512, fx.IovLen);
        Assert.Equal(0x37F, BinaryPrimitives.ReadUInt16LittleEndian(fx.Data));
        Assert.True(fx.Data.AsSpan(416).IndexOfAnyExcept((byte)0) < 0, "FX mode zero-fills padding and sw_reserved");
        var data = (byte[])fx.Data.Clone();
        data[160] = 0xAB; // XMM0
        Assert.Equal(Errno.EINVAL, PtraceRegsets.Set(cfg, task, NoteType.NtPrfpreg, data[..256]).Errno);
        var badMx = (byte[])data.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badMx.AsSpan(24), 0xFFFF0000);
        Assert.Equal(Errno.EINVAL, PtraceRegsets.Set(cfg, task, NoteType.NtPrfpreg, badMx).Errno);
        Assert.Equal(0UL, task.Fpstate.XstateBv & XFeatureMasks.FpSse);
        Assert.True(PtraceRegsets.Set(cfg, task, NoteType.NtPrfpreg, data).Ok);
        Assert.Equal(XFeatureMasks.FpSse, task.Fpstate.XstateBv & XFeatureMasks.FpSse);
        Assert.Equal(0xAB, PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data[160]);
    }
}
