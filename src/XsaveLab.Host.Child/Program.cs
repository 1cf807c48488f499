// The child process of the host probes (ptrace, core dumps, arch_prctl requests): it only runs
// XsaveLab.Host.Linux.ChildMode, the same entry the CLI's Main calls first.
return XsaveLab.Host.Linux.ChildMode.TryRun(args) ?? Usage();

static int Usage()
{
    Console.Error.WriteLine($"usage: XsaveLab.Host.Child {XsaveLab.Host.Linux.ChildMode.Argument} MODE ARGS…");
    return 2;
}
