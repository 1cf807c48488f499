namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary>The FPU notes a core dump carries for one thread: fs/binfmt_elf.c <c>fill_thread_core_info()</c> walks
/// the x86-64 regset view in order (NT_PRFPREG, NT_X86_XSTATE, NT_X86_SHSTK after NT_PRSTATUS), skips a regset
/// whose <c>active()</c> says 0 or whose GET fails, and names NT_PRFPREG "CORE" and the others "LINUX".</summary>
public static class ThreadFpuNotes
{
    /// <summary>The notes for <paramref name="task"/>: NT_PRFPREG (FXSR), NT_X86_XSTATE (with XSAVE: the regset has
    /// n = 0 otherwise) and NT_X86_SHSTK only while the thread has a shadow stack enabled (<c>ssp_active()</c>).</summary>
    public static IReadOnlyList<ElfNote> Build(UabiConfig cfg, UabiTask task)
    {
        var notes = new List<ElfNote>();
        void Add(int type, string owner)
        {
            int len = PtraceRegsets.Length(cfg, type);
            if (len <= 0)
                return;
            var r = PtraceRegsets.Get(cfg, task, type, len);
            if (r.Ok)
                notes.Add(new ElfNote(owner, type, r.Data));
        }
        Add(NoteType.NtPrfpreg, ElfNote.CoreOwner);
        if (cfg.UseXsave)
            Add(NoteType.NtX86Xstate, ElfNote.LinuxOwner);
        if (PtraceRegsets.SspActive(task))
            Add(NoteType.NtX86Shstk, ElfNote.LinuxOwner);
        return notes;
    }
}
