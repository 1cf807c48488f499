namespace XsaveLab.Host.Linux;

/// <summary>The machine code a register-loading child runs. Loading the image and stopping (or dying)
/// happen in one native stub so that no managed code runs while the seeded registers are live.</summary>
/// <remarks>Encodings: SDM Vol.2 XSAVE/XRSTOR (REX.W 0F AE /4 xsave64, /5 xrstor64); syscalls by
/// number (x86-64: rt_sigaction 13, getpid 39, gettid 186, tgkill 234). The <c>syscall</c> instruction
/// clobbers only RAX, RCX and R11, and leaves the XSAVE-managed registers alone.</remarks>
internal sealed unsafe class ChildStubs : IDisposable
{
    private readonly ExecutableMemory _memory;
    private readonly nint _loadAndStop;
    private readonly nint _loadAndFault;
    private readonly nint _xrstorTrap;

    /// <summary>void load_and_stop(void* scratch, void* image, u64 rfbm, u64 saveMask): xsave64 the live
    /// state (saveMask) to scratch, xrstor64 the image (rfbm), tgkill(getpid(), gettid(), SIGSTOP),
    /// then xrstor64 the scratch back and return. A tracer sees the thread stopped with exactly the
    /// image's registers; the runtime never sees them.</summary>
    public static ReadOnlySpan<byte> LoadAndStop =>
    [
        0x49, 0x89, 0xF8,             // mov r8, rdi        scratch
        0x49, 0x89, 0xF1,             // mov r9, rsi        image
        0x49, 0x89, 0xCA,             // mov r10, rcx       saveMask (syscall preserves r10)
        0x48, 0x89, 0xD6,             // mov rsi, rdx       rfbm
        0x4C, 0x89, 0xD0,             // mov rax, r10
        0x4C, 0x89, 0xD2,             // mov rdx, r10
        0x48, 0xC1, 0xEA, 0x20,       // shr rdx, 32
        0x49, 0x0F, 0xAE, 0x20,       // xsave64 [r8]
        0x48, 0x89, 0xF0,             // mov rax, rsi
        0x48, 0x89, 0xF2,             // mov rdx, rsi
        0x48, 0xC1, 0xEA, 0x20,       // shr rdx, 32
        0x49, 0x0F, 0xAE, 0x29,       // xrstor64 [r9]
        0xB8, 0x27, 0x00, 0x00, 0x00, // mov eax, 39        getpid
        0x0F, 0x05,                   // syscall
        0x89, 0xC7,                   // mov edi, eax
        0xB8, 0xBA, 0x00, 0x00, 0x00, // mov eax, 186       gettid
        0x0F, 0x05,                   // syscall
        0x89, 0xC6,                   // mov esi, eax
        0xBA, 0x13, 0x00, 0x00, 0x00, // mov edx, 19        SIGSTOP
        0xB8, 0xEA, 0x00, 0x00, 0x00, // mov eax, 234       tgkill
        0x0F, 0x05,                   // syscall
        0x4C, 0x89, 0xD0,             // mov rax, r10
        0x4C, 0x89, 0xD2,             // mov rdx, r10
        0x48, 0xC1, 0xEA, 0x20,       // shr rdx, 32
        0x49, 0x0F, 0xAE, 0x28,       // xrstor64 [r8]
        0xC3,                         // ret
    ];

    /// <summary>noreturn load_and_fault(void* image, u64 rfbm, void* zeroedSigaction): reset SIGILL to
    /// SIG_DFL with rt_sigaction (so no runtime handler intervenes), xrstor64 the image, ud2. The
    /// kernel then dumps core with the image's registers.</summary>
    public static ReadOnlySpan<byte> LoadAndFault =>
    [
        0x49, 0x89, 0xF8,                   // mov r8, rdi       image
        0x49, 0x89, 0xF1,                   // mov r9, rsi       rfbm
        0xBF, 0x04, 0x00, 0x00, 0x00,       // mov edi, 4        SIGILL
        0x48, 0x89, 0xD6,                   // mov rsi, rdx      act (all zero: SIG_DFL)
        0x31, 0xD2,                         // xor edx, edx      oldact = NULL
        0x41, 0xBA, 0x08, 0x00, 0x00, 0x00, // mov r10d, 8       sizeof(sigset)
        0xB8, 0x0D, 0x00, 0x00, 0x00,       // mov eax, 13       rt_sigaction
        0x0F, 0x05,                         // syscall
        0x4C, 0x89, 0xC8,                   // mov rax, r9
        0x4C, 0x89, 0xCA,                   // mov rdx, r9
        0x48, 0xC1, 0xEA, 0x20,             // shr rdx, 32
        0x49, 0x0F, 0xAE, 0x28,             // xrstor64 [r8]
        0x0F, 0x0B,                         // ud2
        0xC3,                               // ret (not reached)
    ];

    /// <summary>noreturn xrstor_trap(void* image, u64 rfbm): tgkill(getpid(), gettid(), SIGSTOP), then xrstor64 the
    /// image (rfbm) and ud2. The tracer puts an image in the buffer while the thread is stopped and resumes it at
    /// the instruction after the tgkill (where the first stop left it): a #GP of the XRSTOR
    /// stops the thread with SIGSEGV, a completed XRSTOR with the SIGILL of the ud2; either way the tracer
    /// suppresses the signal and starts the next image at the same place.</summary>
    public static ReadOnlySpan<byte> XrstorTrap =>
    [
        0x49, 0x89, 0xF8,             // mov r8, rdi        image
        0x49, 0x89, 0xF1,             // mov r9, rsi        rfbm
        0xB8, 0x27, 0x00, 0x00, 0x00, // mov eax, 39        getpid
        0x0F, 0x05,                   // syscall
        0x89, 0xC7,                   // mov edi, eax
        0xB8, 0xBA, 0x00, 0x00, 0x00, // mov eax, 186       gettid
        0x0F, 0x05,                   // syscall
        0x89, 0xC6,                   // mov esi, eax
        0xBA, 0x13, 0x00, 0x00, 0x00, // mov edx, 19        SIGSTOP
        0xB8, 0xEA, 0x00, 0x00, 0x00, // mov eax, 234       tgkill
        0x0F, 0x05,                   // syscall
        0x4C, 0x89, 0xC8,             // mov rax, r9        (resume here)
        0x4C, 0x89, 0xCA,             // mov rdx, r9
        0x48, 0xC1, 0xEA, 0x20,       // shr rdx, 32
        0x49, 0x0F, 0xAE, 0x28,       // xrstor64 [r8]
        0x0F, 0x0B,                   // ud2
        0xC3,                         // ret (not reached)
    ];

    public ChildStubs()
    {
        _memory = new ExecutableMemory(4096);
        _loadAndStop = _memory.Emit(LoadAndStop);
        _loadAndFault = _memory.Emit(LoadAndFault);
        _xrstorTrap = _memory.Emit(XrstorTrap);
        _memory.Seal();
    }

    public void CallLoadAndStop(void* scratch, void* image, ulong rfbm, ulong saveMask) =>
        ((delegate* unmanaged<void*, void*, ulong, ulong, void>)_loadAndStop)(scratch, image, rfbm, saveMask);

    public void CallLoadAndFault(void* image, ulong rfbm, void* zeroedSigaction) =>
        ((delegate* unmanaged<void*, ulong, void*, void>)_loadAndFault)(image, rfbm, zeroedSigaction);

    public void CallXrstorTrap(void* image, ulong rfbm) =>
        ((delegate* unmanaged<void*, ulong, void>)_xrstorTrap)(image, rfbm);

    public void Dispose() => _memory.Dispose();
}
