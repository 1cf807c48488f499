namespace XsaveLab.Kernel.Tasks;

/// <summary><c>struct thread_shstk</c>: the shadow stack the kernel allocated for a thread (base and size of its
/// mapping), both 0 when the thread manages none (shadow stacks off, or a CLONE_VFORK child that runs on its
/// parent's).</summary>
public readonly record struct ThreadShstk(ulong Base, ulong Size)
{
    /// <summary>The top: where SSP starts (the stack grows down).</summary>
    public ulong Top => Base + Size;

    public override string ToString() => Size == 0 ? "none" : $"0x{Base:x}-0x{Top:x}";
}
