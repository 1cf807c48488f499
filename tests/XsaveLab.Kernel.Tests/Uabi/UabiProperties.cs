using FsCheck;
using FsCheck.Fluent;
namespace XsaveLab.Kernel.Tests.Uabi;

/// <summary>FsCheck properties over catalog CPUs, random task states and arbitrary byte edits of a valid
/// NT_X86_XSTATE image: whatever the kernel rejects leaves the task untouched, and whatever it accepts reads back
/// as the kernel's normalisation of what was written.</summary>
public class UabiProperties
{
    private static readonly string[] XsaveCpus = [.. CpuCatalog.Entries.Where(e => e.Profile.HasXsave).Select(e => e.Name)];

    private static readonly Gen<(string Cpu, int Seed, int Offset, byte Value)> Edits =
        from cpu in Gen.Elements(XsaveCpus)
        from seed in ArbMap.Default.GeneratorFor<int>()
        from offset in Gen.Choose(0, 4095)
        from value in ArbMap.Default.GeneratorFor<byte>()
        select (cpu, seed, offset, value);

    [Fact]
    public void A_set_either_fails_without_effect_or_is_idempotent_through_get()
    {
        Prop.ForAll(Edits.ToArbitrary(), e =>
        {
            var cfg = UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get(e.Cpu)));
            var task = UabiRandom.Task(cfg, new Random(e.Seed));
            var img = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
            img[e.Offset % img.Length] = e.Value;
            var before = task.Clone();
            var r = PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, img);
            if (!r.Ok)
                return r.Errno == Errno.EINVAL && before.Fpstate.Buffer.AsSpan().SequenceEqual(task.Fpstate.Buffer) && before.Pkru == task.Pkru;
            // Accepted: GET gives the normalised image, and setting that again changes nothing — except MXCSR
            // when only FP is in use: SET stored it with FP's 160 bytes, GET shows the init MXCSR instead
            // (copy_xstate_to_uabi_buf copies MXCSR only for SSE|YMM), so setting GET's image writes that back.
            // Likewise the PKRU slot of the kernel buffer: SET copies all 8 bytes of the component (padding
            // included) but the live value is thread.pkru, and GET writes that value with a zero pad.
            var back = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
            var again = task.Clone();
            bool mxcsrHidden = (task.Fpstate.XstateBv & (XFeatureMasks.Sse | XFeatureMasks.Ymm)) == 0;
            int pkruOffset = (task.Fpstate.XcompBv & XFeatureMasks.Pkru) != 0 || !cfg.Compacted
                ? cfg.KernelOffset(task.Fpstate.XcompBv, (int)XFeature.Pkru) : -1;
            return PtraceRegsets.Set(cfg, again, NoteType.NtX86Xstate, back).Ok
                && again.Pkru == task.Pkru
                && SameRegs(again.Fpstate.Buffer, task.Fpstate.Buffer, mxcsrHidden, pkruOffset)
                && PtraceRegsets.Get(cfg, again, NoteType.NtX86Xstate, cfg.UserMaxSize).Data.AsSpan().SequenceEqual(back);
        }).CheckSeeded(0x0AB1_0001);
    }

    private static bool SameRegs(byte[] a, byte[] b, bool ignoreMxcsr, int pkruOffset)
    {
        var x = (byte[])a.Clone();
        var y = (byte[])b.Clone();
        if (ignoreMxcsr)
        {
            x.AsSpan(XsaveOffsets.Mxcsr, XsaveOffsets.MxcsrAndFlagsSize).Clear();
            y.AsSpan(XsaveOffsets.Mxcsr, XsaveOffsets.MxcsrAndFlagsSize).Clear();
        }
        if (pkruOffset >= 0 && pkruOffset + 8 <= x.Length)
        {
            x.AsSpan(pkruOffset, 8).Clear();
            y.AsSpan(pkruOffset, 8).Clear();
        }
        return x.AsSpan().SequenceEqual(y);
    }

    [Theory]
    [InlineData("haswell")]
    [InlineData("spr")]
    public void Mxcsr_set_with_fp_only_is_stored_but_reads_back_as_init(string cpu)
    {
        var cfg = UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get(cpu)));
        var task = UabiRandom.Task(cfg, new Random(1));
        var img = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(XsaveOffsets.XstateBv), XFeatureMasks.Fp);
        BinaryPrimitives.WriteUInt32LittleEndian(img.AsSpan(XsaveOffsets.Mxcsr), 0x1480);
        Assert.True(PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, img).Ok);
        Assert.Equal(0x1480u, BinaryPrimitives.ReadUInt32LittleEndian(task.Fpstate.Buffer.AsSpan(XsaveOffsets.Mxcsr)));
        var back = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        Assert.Equal(0x1F80u, BinaryPrimitives.ReadUInt32LittleEndian(back.AsSpan(XsaveOffsets.Mxcsr)));
    }

    [Theory]
    [InlineData("zen4-raphael")]
    [InlineData("spr")]
    public void Pkru_padding_set_through_ptrace_is_kept_in_the_buffer_but_reads_back_as_zero(string cpu)
    {
        // copy_uabi_to_xstate() copies the whole 8-byte PKRU component; copy_xstate_to_uabi_buf() writes
        // thread.pkru as a u32 followed by a zero pad.
        var cfg = UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get(cpu)));
        var task = UabiRandom.Task(cfg, new Random(-87));
        var img = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        int std = cfg.StandardOffset((int)XFeature.Pkru);
        BinaryPrimitives.WriteUInt64LittleEndian(img.AsSpan(XsaveOffsets.XstateBv),
            BinaryPrimitives.ReadUInt64LittleEndian(img.AsSpan(XsaveOffsets.XstateBv)) | XFeatureMasks.Pkru);
        img[std + 5] = 104;
        Assert.True(PtraceRegsets.Set(cfg, task, NoteType.NtX86Xstate, img).Ok);
        int kernelOffset = cfg.KernelOffset(task.Fpstate.XcompBv, (int)XFeature.Pkru);
        Assert.Equal(104, task.Fpstate.Buffer[kernelOffset + 5]);
        var back = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        Assert.Equal(0, back[std + 5]);
    }

    [Fact]
    public void Every_frame_the_kernel_writes_is_restored_exactly()
    {
        var gen = from cpu in Gen.Elements(XsaveCpus)
                  from seed in ArbMap.Default.GeneratorFor<int>()
                  select (cpu, seed);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var cfg = UabiConfig.FromSystem(FpuSystem.Boot(CpuCatalog.Get(c.cpu)));
            var task = UabiRandom.Task(cfg, new Random(c.seed));
            var regs = UabiFixtures.UserRegisters(cfg, task);
            uint pkru = task.Pkru;
            var frame = new byte[task.Fpstate.UserSize + 4];
            Sigframes.CopyFpstateToSigframe(cfg, task, frame);
            Sigframes.ClearUserStates(cfg, task);
            var r = Sigframes.FpuRestoreSig(cfg, task, frame);
            return r.Ok && !r.FxOnly && task.Pkru == pkru && regs.AsSpan().SequenceEqual(UabiFixtures.UserRegisters(cfg, task));
        }).CheckSeeded(0x0AB1_0002);
    }
}
