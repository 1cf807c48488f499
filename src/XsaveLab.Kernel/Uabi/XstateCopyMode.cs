namespace XsaveLab.Kernel.Uabi;

/// <summary><c>enum xstate_copy_mode</c> (arch/x86/kernel/fpu/xstate.h).</summary>
public enum XstateCopyMode
{
    /// <summary>XSTATE_COPY_FP: x87 only (32-bit NT_PRFPREG conversion).</summary>
    Fp,

    /// <summary>XSTATE_COPY_FX: the 512-byte FXSAVE image (NT_PRFPREG).</summary>
    Fx,

    /// <summary>XSTATE_COPY_XSAVE: the full standard-format image (NT_X86_XSTATE, KVM_GET_XSAVE).</summary>
    Xsave,
}
