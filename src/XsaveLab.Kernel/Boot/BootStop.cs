namespace XsaveLab.Kernel.Boot;

/// <summary>A fault on the boot CPU's <c>fpu__init_cpu_xstate()</c> (arch/x86/kernel/fpu/xstate.c): the kernel
/// programs IA32_XFD, then XCR0 with XSETBV, then IA32_XSS, with values derived from CPUID alone, before
/// <c>init_xstate_size()</c> checks anything. None of the three instructions has an exception-table entry, so a
/// #GP there is a kernel oops in the idle task (PID 0) and the boot ends in a panic.</summary>
/// <param name="Instruction">The faulting instruction, e.g. <c>XSETBV</c> or <c>WRMSR IA32_XSS</c>.</param>
/// <param name="Value">The value written.</param>
/// <param name="Fault">The fault and the rule it breaks (the Arch model's XSETBV/WRMSR checks; KVM's
/// <c>__kvm_set_xcr()</c> applies the same XCR0 rules and injects #GP(0)).</param>
public sealed record BootStop(string Instruction, ulong Value, XsaveFault Fault)
{
    /// <summary>The exception vector: 0x0d for #GP, 0x06 for #UD.</summary>
    public int Vector => Fault.Kind == FaultKind.InvalidOpcode ? 0x06 : 0x0d;

    /// <summary>One line, e.g. <c>#GP on XSETBV 0x67: XCR0[7:5] (AVX-512) not all equal, …</c>.</summary>
    public string Summary => $"{(Fault.Kind == FaultKind.InvalidOpcode ? "#UD" : "#GP")} on {Instruction} 0x{Value:x}: {Fault.Rule}";

    /// <summary>What the kernel prints. <c>fpu__init_system()</c> runs in <c>arch_cpu_finalize_init()</c>, after
    /// <c>trap_init()</c> and <c>console_init()</c> in <c>start_kernel()</c>, so the regular handler
    /// (<c>exc_general_protection()</c> → <c>die_addr()</c>, error code 0) prints an oops on the console, and
    /// <c>make_task_dead()</c> panics because the current task is the idle task. The oops header's tail depends on
    /// the kernel configuration (PREEMPT, SMP, PTI) the model does not know: it is printed as a placeholder.
    /// With <c>panic_on_oops</c> set the panic line reads "Fatal exception" instead.</summary>
    public IReadOnlyList<string> KernelLines()
    {
        const string Panic = "Kernel panic - not syncing: Attempted to kill the idle task!";
        string header = Fault.Kind == FaultKind.InvalidOpcode ? "invalid opcode: 0000 [#1]" : "general protection fault: 0000 [#1]";
        return [$"{header} <PREEMPT/SMP/PTI flags of the kernel configuration>", Panic, $"---[ end {Panic} ]---"];
    }

    public override string ToString() => Summary;
}
