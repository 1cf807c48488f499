namespace XsaveLab.Kernel.Memory;

/// <summary>The C struct sizes <c>fpu__init_task_struct_size()</c> (arch/x86/kernel/fpu/init.c) starts from, as one
/// kernel build has them: they depend on its configuration, so they are read from that build's BTF or given.</summary>
/// <param name="TaskStruct"><c>sizeof(struct task_struct)</c>.</param>
/// <param name="Fpu"><c>sizeof(struct fpu)</c>.</param>
/// <param name="FpregsState"><c>sizeof(union fpregs_state)</c>: its <c>__padding[PAGE_SIZE]</c> member makes it one
/// page (arch/x86/include/asm/fpu/types.h).</param>
/// <param name="FpuAppended">The build keeps <c>struct fpu</c> after the task_struct, outside it (81106b7e0b13,
/// "x86/fpu: Make task_struct::thread constant size", 6.16); false: it is <c>task_struct::thread.fpu</c>,
/// inside <see cref="TaskStruct"/>.</param>
/// <param name="Source">Where the sizes come from (BTF file, or the command line).</param>
public sealed record TaskStructSizes(int TaskStruct, int Fpu, int FpregsState, bool FpuAppended, string Source)
{
    /// <summary><c>sizeof(union fpregs_state)</c> = PAGE_SIZE on x86.</summary>
    public const int FpregsStateBytes = SlubRules.PageSize;

    /// <summary>The largest size accepted for any of the structs (a bound on input, far above any real build).</summary>
    public const int MaxStructBytes = 1 << 20;

    /// <summary>Sizes given for a build: with <paramref name="fpu"/> the build is one where struct fpu follows the
    /// task_struct (6.16+); without, struct fpu is inside <paramref name="taskStruct"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size outside 1..<see cref="MaxStructBytes"/>, or a
    /// task_struct that cannot hold the register state it embeds.</exception>
    public static TaskStructSizes Given(int taskStruct, int? fpu, string source)
    {
        if (taskStruct is < 1 or > MaxStructBytes)
            throw new ArgumentOutOfRangeException(nameof(taskStruct), taskStruct, $"1..{MaxStructBytes}");
        if (fpu is { } f && (f <= FpregsStateBytes || f > MaxStructBytes))
            throw new ArgumentOutOfRangeException(nameof(fpu), f, $"{FpregsStateBytes + 1}..{MaxStructBytes} (struct fpu holds union fpregs_state)");
        if (fpu is null && taskStruct <= FpregsStateBytes)
            throw new ArgumentOutOfRangeException(nameof(taskStruct), taskStruct, $"over {FpregsStateBytes}: without a separate struct fpu the task_struct holds union fpregs_state");
        return new TaskStructSizes(taskStruct, fpu ?? 0, FpregsStateBytes, fpu is not null, source);
    }

    /// <summary><c>arch_task_struct_size</c> for a kernel whose <c>fpu_kernel_cfg.default_size</c> is
    /// <paramref name="defaultSize"/>: the static register state is replaced by the boot-time size.
    /// 6.16+: <c>sizeof(task_struct) + sizeof(struct fpu) - sizeof(union fpregs_state) + default_size</c>;
    /// before: <c>sizeof(task_struct) - sizeof(thread.fpu.__fpstate.regs) + default_size</c>.</summary>
    public int ArchTaskStructSize(int defaultSize) =>
        TaskStruct + (FpuAppended ? Fpu : 0) - FpregsState + defaultSize;
}
