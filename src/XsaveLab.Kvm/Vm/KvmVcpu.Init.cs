namespace XsaveLab.Kvm.Vm;

public sealed partial class KvmVcpu
{
    /// <summary>INIT: what <c>kvm_vcpu_reset(vcpu, init_event = true)</c> does to the XSAVE-related state. In KVM an INIT
    /// reaches a vCPU through its in-kernel local APIC (an INIT IPI from another vCPU) and is taken at the next KVM_RUN
    /// (<c>kvm_apic_accept_events()</c>); the model applies it when called.
    /// <list type="bullet">
    /// <item><c>kvm_xstate_reset()</c> (arch/x86/kvm/x86.c) puts the guest FPU and zeroes, with
    /// <c>fpstate_clear_xstate_component()</c>, each component of (supported XCR0 | supported XSS) &amp; mask that the
    /// guest fpstate holds (XSTATE_BV set; XSTATE_BV itself is left as it is). The mask is BNDREGS | BNDCSR on every
    /// release; 6.18 adds CET_USER | CET_KERNEL (U_CET, PL0–3_SSP). On RESET (vCPU creation) it does nothing: the
    /// fpstate is allocated zeroed.</item>
    /// <item>XCR0 and IA32_XSS are reset only on RESET (<c>if (!init_event)</c>), so INIT keeps them; CR4 becomes 0
    /// (CR4.OSXSAVE clear) and the vCPU starts at CPL 0.</item>
    /// <item>VMX, 6.18: <c>vmx_vcpu_reset()</c> zeroes GUEST_SSP and GUEST_INTR_SSP_TABLE (KVM offers SHSTK) and
    /// GUEST_S_CET (SHSTK or IBT) on RESET and INIT. SVM: the model leaves the VMCB's <c>save.ssp</c>, <c>s_cet</c> and
    /// <c>isst_addr</c> as they were (the SVM INIT path was not checked).</item>
    /// </list></summary>
    public SysResult Init()
    {
        if (Dead() is { } d) return d;
        var fps = Fpu.FpState!;
        ulong mask = (Caps.SupportedXcr0 | Caps.SupportedXss) & InitClearedFeatures(Caps.Release);
        var cleared = new List<string>();
        bool compacted = (fps.XcompBv & XFeatureMasks.CompactedFormat) != 0;
        var layout = compacted
            ? Arch.Layout.XStateLayout.CompactedForm(Host.Cpu, fps.XcompBv & ~XFeatureMasks.CompactedFormat)
            : Arch.Layout.XStateLayout.Standard(Host.Cpu, fps.Xfeatures);
        for (ulong m = mask; m != 0; m &= m - 1)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(m);
            // get_xsave_addr() returns NULL for a component without data (XSTATE_BV clear): nothing to zero.
            int at = layout.OffsetOf(i);
            if ((fps.XstateBv >> i & 1) == 0 || at < 0 || Host.Cpu.Component(i) is not { } c || at + c.Size > fps.Size)
                continue;
            fps.Regs.Slice(at, c.Size).Clear();
            cleared.Add(XFeatureTable.Get(i).ShortName);
        }
        Cr4OsXsave = false;
        _guestCpl = 0;
        if (!Caps.Svm && Caps.Release.HasCet())
        {
            if (Caps.Shstk)
            {
                Ssp = 0;
                IntSspTab = 0;
            }
            if (Caps.Shstk || Caps.Ibt)
                SCet = 0;
        }
        string vmcs = Caps.Svm ? "VMCB save area unchanged" : Caps.Release.HasCet() && (Caps.Shstk || Caps.Ibt) ? "GUEST_SSP, GUEST_S_CET, GUEST_INTR_SSP_TABLE = 0" : "no CET state";
        return SysResult.Success(0, $"kvm_vcpu_reset(init_event): kvm_xstate_reset() zeroed {(cleared.Count == 0 ? "nothing" : string.Join(", ", cleared))} (mask 0x{mask:x}); XCR0 0x{Xcr0:x} and XSS 0x{Ia32Xss:x} kept; CR4 = 0; {vmcs}");
    }

    /// <summary>The components <c>kvm_xstate_reset()</c> zeroes on INIT before <c>kvm_caps</c> cuts them: MPX's, and
    /// from 6.18 CET's.</summary>
    public static ulong InitClearedFeatures(KvmRelease release) =>
        XFeatureMasks.Mpx | (release.HasCet() ? KvmCaps.CetAll : 0);
}
