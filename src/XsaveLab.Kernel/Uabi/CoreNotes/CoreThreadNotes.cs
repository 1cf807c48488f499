namespace XsaveLab.Kernel.Uabi.CoreNotes;

/// <summary>The notes of one thread in a core file: the NT_PRSTATUS that opens the group and the notes up to the
/// next NT_PRSTATUS. Linux writes the dumping thread first (fs/binfmt_elf.c <c>fill_note_info()</c>);
/// <c>elf_prstatus.pr_pid</c> is at offset 32 and <c>pr_cursig</c> at 12 on x86-64.</summary>
public sealed record CoreThreadNotes(int Pid, int CurrentSignal, IReadOnlyList<ElfNote> Notes)
{
    private const int PrCursigOffset = 12, PrPidOffset = 32;

    public ElfNote? Find(int type) => Notes.FirstOrDefault(n => n.Type == type);

    /// <summary>Groups notes into threads: each NT_PRSTATUS opens a group; notes before the first one
    /// (NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE) belong to the process and are left out.</summary>
    public static IReadOnlyList<CoreThreadNotes> Group(IReadOnlyList<ElfNote> notes)
    {
        var threads = new List<CoreThreadNotes>();
        List<ElfNote>? current = null;
        int pid = 0, sig = 0;
        foreach (var n in notes)
        {
            if (n.Type == NoteType.NtPrstatus && n.Name == ElfNote.CoreOwner && n.Desc.Length >= PrPidOffset + 4)
            {
                if (current is not null)
                    threads.Add(new CoreThreadNotes(pid, sig, current));
                current = [n];
                sig = BinaryPrimitives.ReadInt16LittleEndian(n.Desc.AsSpan(PrCursigOffset));
                pid = BinaryPrimitives.ReadInt32LittleEndian(n.Desc.AsSpan(PrPidOffset));
            }
            else
                current?.Add(n);
        }
        if (current is not null)
            threads.Add(new CoreThreadNotes(pid, sig, current));
        return threads;
    }
}
