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
    /// <exception cref="ArgumentOutOfRangeException">See <see cref="Problem"/>.</exception>
    public static TaskStructSizes Given(int taskStruct, int? fpu, string source) =>
        Problem(taskStruct, fpu) is { } why ? throw new ArgumentOutOfRangeException(why.Fpu ? nameof(fpu) : nameof(taskStruct), why.Text)
        : new TaskStructSizes(taskStruct, fpu ?? 0, FpregsStateBytes, fpu is not null, source);

    /// <summary>Why the sizes cannot be a build's (which of the two, and a sentence), or null: a size outside
    /// 1..<see cref="MaxStructBytes"/>, a struct fpu that cannot hold union fpregs_state, or (without a separate
    /// struct fpu) a task_struct that cannot.</summary>
    public static (bool Fpu, string Text)? Problem(int taskStruct, int? fpu)
    {
        if (taskStruct is < 1 or > MaxStructBytes)
            return (false, $"{taskStruct} is outside 1..{MaxStructBytes}");
        if (fpu is { } f && (f <= FpregsStateBytes || f > MaxStructBytes))
            return (true, $"{f} is outside {FpregsStateBytes + 1}..{MaxStructBytes} (struct fpu holds the {FpregsStateBytes}-byte union fpregs_state)");
        if (fpu is null && taskStruct <= FpregsStateBytes)
            return (false, $"{taskStruct} is not over {FpregsStateBytes}: without --fpu-struct-size the task_struct holds union fpregs_state");
        return null;
    }

    /// <summary><c>arch_task_struct_size</c> for a kernel whose <c>fpu_kernel_cfg.default_size</c> is
    /// <paramref name="defaultSize"/>: the static register state is replaced by the boot-time size.
    /// 6.16+: <c>sizeof(task_struct) + sizeof(struct fpu) - sizeof(union fpregs_state) + default_size</c>;
    /// before: <c>sizeof(task_struct) - sizeof(thread.fpu.__fpstate.regs) + default_size</c>.</summary>
    public int ArchTaskStructSize(int defaultSize) =>
        TaskStruct + (FpuAppended ? Fpu : 0) - FpregsState + defaultSize;
}
