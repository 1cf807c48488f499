namespace XsaveLab.Kernel.Tasks;

/// <summary><c>struct fpu_state_perm</c>: <c>__state_perm</c> (user and supervisor bits and software flags such as
/// FPU_GUEST_PERM_LOCKED, bit 63), <c>__state_size</c> (kernel buffer size for it) and
/// <c>__user_state_size</c> (UABI size of its user part). Only the thread-group leader's copy counts.</summary>
public readonly record struct FpuStatePerm(ulong StatePerm, int StateSize, int UserStateSize)
{
    public bool GuestLocked => (StatePerm & Boot.FpuSystem.GuestPermLocked) != 0;

    public override string ToString() => $"__state_perm=0x{StatePerm:x} __state_size={StateSize} __user_state_size={UserStateSize}";
}
