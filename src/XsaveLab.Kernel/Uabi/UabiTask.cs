namespace XsaveLab.Kernel.Uabi;

/// <summary>The per-thread state the UABI paths touch: the active <see cref="FpState"/> (the task model's own
/// object, or a detached one) and <c>thread.pkru</c>.</summary>
public sealed class UabiTask
{
    public UabiTask(FpState fpstate, uint pkru)
    {
        Fpstate = fpstate;
        Pkru = pkru;
    }

    public FpState Fpstate { get; set; }

    /// <summary>thread.pkru: the PKRU value the task runs with (PKRU is switched eagerly, not via XRSTOR).</summary>
    public uint Pkru { get; set; }

    /// <summary>fpu->last_cpu == -1 after fpu_force_restore(): the next return to user space reloads from
    /// memory. Set by ptrace SET.</summary>
    public bool RegistersInvalidated { get; set; }

    /// <summary>ARCH_SHSTK_SHSTK in thread.features: <c>ssp_active()</c>.</summary>
    public bool ShstkEnabled { get; set; }

    public UabiTask Clone() => new(Fpstate.Clone(), Pkru) { RegistersInvalidated = RegistersInvalidated, ShstkEnabled = ShstkEnabled };

    /// <summary>init_pkru_value (arch/x86/mm/pkeys.c).</summary>
    public const uint InitPkruValue = LinuxKernel.InitPkruValue;
}
