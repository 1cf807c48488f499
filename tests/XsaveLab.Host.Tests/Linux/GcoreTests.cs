namespace XsaveLab.Host.Tests.Linux;

/// <summary>gdb's gcore writes its core from ptrace data: its NT_X86_XSTATE must hold the registers a
/// stopped child loaded. Whether it also writes NT_X86_XSAVE_LAYOUT is reported, not assumed.</summary>
public sealed class GcoreTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-gcore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void Gcore_of_a_stopped_child_holds_its_loaded_registers()
    {
        var launcher = HostFacts.ChildLauncher();
        string? gcore = new[] { "/usr/bin/gcore", "/usr/local/bin/gcore" }.FirstOrDefault(File.Exists);
        Skip.If(gcore is null, "gdb's gcore is not installed");
        const ulong seed = 0x6C0E;
        TracedChild child;
        try
        {
            child = TracedChild.SpawnLoadedRegisters(launcher, seed);
        }
        catch (HostProbeException e)
        {
            Skip.If(true, $"cannot trace a child here: {e.Message}");
            throw;
        }
        using (child)
        {
            // Hand the child over stopped: detaching with SIGSTOP puts the whole process in a group stop
            // with the seeded registers still loaded.
            Assert.Equal(0, child.Detach(Libc.SigStop));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (State(child.Pid) != 'T' && DateTime.UtcNow < deadline)
                Thread.Sleep(5);
            Assert.Equal('T', State(child.Pid));

            string prefix = Path.Combine(_dir, "gcore");
            var psi = new ProcessStartInfo(gcore!, ["-o", prefix, child.Pid.ToString()])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var p = Process.Start(psi)!;
            string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "gcore did not finish");
            string core = $"{prefix}.{child.Pid}";
            Skip.IfNot(File.Exists(core), $"gcore wrote no core (exit {p.ExitCode}): {stderr}");

            var notes = ElfCoreFile.Read(core).NotesOrThrow();
            var thread = CoreThreadNotes.Group(notes).FirstOrDefault(t => t.Pid == child.Pid);
            Assert.NotNull(thread);
            var xstate = thread.Find(NoteType.NtX86Xstate);
            Assert.NotNull(xstate);
            var expected = SeededXstateImage.Build(seed, UserXstateLayout.FromHost());
            var layoutNote = notes.FirstOrDefault(n => n.Type == NoteType.NtX86XsaveLayout);
            output.WriteLine($"gcore NT_X86_XSTATE: {xstate.Desc.Length} bytes (kernel: {expected.Image.Length}); NT_X86_XSAVE_LAYOUT present: {layoutNote is not null}");
            if (layoutNote is not null)
            {
                var diffs = expected.CompareWith(xstate.Desc, XsaveLayoutNote.Decode(layoutNote.Desc));
                Assert.True(diffs.Count == 0, string.Join("\n", diffs));
            }
            else
            {
                // Without a layout note the reader must assume offsets. The legacy region and AVX (576)
                // are the same in every layout and must hold the loaded registers; the rest is reported:
                // gdb 13 places components at fixed Intel offsets, which differ from AMD's for AVX-512.
                var diffs = expected.CompareWith(xstate.Desc);
                var shared = diffs.Where(d => d.Offset < XsaveOffsets.ExtendedStart + 256 && d.Field != "length").ToList();
                Assert.True(shared.Count == 0, string.Join("\n", shared));
                foreach (var d in diffs)
                    output.WriteLine($"  differs from the host layout: {d.Field} @{d.Offset}+{d.Length}");
            }
            output.WriteLine(stdout.Trim());
        }
    }

    private static char State(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }
}
