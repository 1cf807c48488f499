namespace XsaveLab.Host.Check;

/// <summary>A core of the stopped probe child written by gdb's <c>gcore</c> (from ptrace data, in gdb's own
/// XSAVE layout, usually without NT_X86_XSAVE_LAYOUT): the decoder must still recover the registers.</summary>
public sealed class GcoreCheck : IHostCheckProvider
{
    public string Name => "gcore";

    private const ulong Seed = 0x6C0E_0007;

    public IEnumerable<Observable> Run(HostCheckContext ctx)
    {
        string? gcore = new[] { "/usr/bin/gcore", "/usr/local/bin/gcore" }.FirstOrDefault(File.Exists);
        if (ctx.Launcher is null || gcore is null)
        {
            yield return Observable.Skipped("gcore NT_X86_XSTATE", gcore is null ? "gdb's gcore is not installed" : ctx.LauncherUnavailableReason);
            yield break;
        }
        string dir = Directory.CreateTempSubdirectory("xsavelab-gcore-").FullName;
        try
        {
            foreach (var o in Checks(ctx, gcore, dir))
                yield return o;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static List<Observable> Checks(HostCheckContext ctx, string gcore, string dir) =>
        TracedProbe.OnLoadedChild(ctx, Seed, "gcore NT_X86_XSTATE", child => ChildChecks(ctx, gcore, dir, child)).Observations;

    private static List<Observable> ChildChecks(HostCheckContext ctx, string gcore, string dir, TracedChild child)
    {
        var list = new List<Observable>();
        var kernelImage = child.GetRegset(NoteType.NtX86Xstate).Data;
        int gdbMajor = GdbMajorVersion();
        // Hand the child to gdb stopped: detaching with SIGSTOP leaves it in a group stop with the seeded
        // registers loaded.
        child.Detach(Libc.SigStop);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (State(child.Pid) != 'T' && DateTime.UtcNow < deadline)
            Thread.Sleep(5);
        string prefix = Path.Combine(dir, "gcore");
        var psi = new ProcessStartInfo(gcore, ["-o", prefix, child.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        string stderr = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill();
            list.Add(Observable.Skipped("gcore NT_X86_XSTATE", "gcore did not finish within 3 minutes"));
            return list;
        }
        string core = $"{prefix}.{child.Pid}";
        if (!File.Exists(core))
        {
            list.Add(Observable.Skipped("gcore NT_X86_XSTATE", $"gcore wrote no core (exit {p.ExitCode}): {stderr.Trim()}"));
            return list;
        }
        var notes = ElfCoreFile.Read(core).NotesOrThrow();
        var xs = notes.FirstOrDefault(n => n.Type == NoteType.NtX86Xstate);
        if (xs is null)
        {
            list.Add(Observable.Compare("gcore NT_X86_XSTATE note", "present", "absent"));
            return list;
        }
        var cfg = ctx.Uabi(ChildModel.HardwareMxcsrMask(xs.Desc));
        var hostLayout = XsaveLayoutNote.Records(cfg);
        var decoded = XstateCoreDecoder.Decode(notes, xcr0 => hostLayout.Where(r => (xcr0 >> (int)r.Type & 1) != 0).ToArray());
        bool hasNote = notes.Any(n => n.Type == NoteType.NtX86XsaveLayout);
        list.Add(new Observable("gcore layout used by the decoder", hasNote ? "NT_X86_XSAVE_LAYOUT" : "no note: host layout or gdb's guess by size",
            $"{decoded.Source} ({Numbers.Bytes(xs.Desc.Length)}; kernel image {cfg.UserMaxSize})", ObservableStatus.Match,
            "gcore writes NT_X86_XSTATE from ptrace data in gdb's own layout (i387_collect_xsave)"));
        var task = ChildModel.AfterLoad(cfg, SeededXstateImage.Build(Seed, UserXstateLayout.FromHost()));
        var expect = PtraceRegsets.Get(cfg, task, NoteType.NtX86Xstate, cfg.UserMaxSize).Data;
        list.Add(Observable.Compare("gcore XMM0-15 (decoded)", ChildModel.Hex(expect.AsSpan(XsaveOffsets.XmmSpace, XsaveOffsets.XmmSpaceSize)), ChildModel.Hex(decoded.Component(1)!.Bytes)));
        foreach (var r in hostLayout)
        {
            var c = decoded.Component((int)r.Type);
            var o = Observable.Compare($"gcore component {r.Type} (decoded)", ChildModel.Hex(expect.AsSpan((int)r.Offset, (int)r.Size)), c is null ? "(absent)" : ChildModel.Hex(c.Bytes));
            if (o.Status == ObservableStatus.Mismatch && c is not null && !hasNote && gdbMajor is > 0 and < 14 && c.Offset != r.Offset
                && ReadAtSameOffset(c, kernelImage))
                o = o with
                {
                    Status = ObservableStatus.Explained,
                    Reason = $"gdb {gdbMajor} predates AMD XSAVE layouts (gdb 14): it read the kernel's ptrace image at the Intel offset {c.Offset} " +
                             $"instead of {r.Offset} (verified: its bytes equal the kernel image at {c.Offset}), so its registers are not the child's. " +
                             "NT_X86_XSAVE_LAYOUT (Linux 6.12) exists for this.",
                };
            list.Add(o);
        }
        return list;
    }

    /// <summary>gdb copies the ptrace image to and from its register cache at the same (assumed) offsets, so a
    /// misplaced component holds the kernel image's bytes at that offset (as far as the image reaches).</summary>
    private static bool ReadAtSameOffset(DecodedComponent c, byte[] kernelImage)
    {
        int n = Math.Min(c.Bytes.Length, kernelImage.Length - c.Offset);
        return n > 0 && c.Bytes.AsSpan(0, n).SequenceEqual(kernelImage.AsSpan(c.Offset, n));
    }

    /// <summary>The major version printed by <c>gdb --version</c> ("GNU gdb (Debian 13.1-3) 13.1"), 0 if unknown.</summary>
    private static int GdbMajorVersion()
    {
        try
        {
            var psi = new ProcessStartInfo("gdb", ["--version"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string first = p.StandardOutput.ReadLine() ?? "";
            p.StandardOutput.ReadToEnd();
            p.WaitForExit(TimeSpan.FromSeconds(30));
            var last = first.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            return int.TryParse(last.Split('.')[0], System.Globalization.CultureInfo.InvariantCulture, out int v) ? v : 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return 0;
        }
    }

    private static char State(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return '?';
        }
    }
}
