namespace XsaveLab.Host.Tests.Linux;

public class ChildLauncherTests
{
    [SkippableFact]
    public void ForAssembly_runs_the_dotnet_host_of_this_runtime()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs Linux");
        var l = ChildLauncher.ForAssembly("some/child.dll");
        Assert.True(File.Exists(l.Executable), l.Executable);
        Assert.Equal("dotnet", Path.GetFileName(l.Executable));
        Assert.Equal(["exec", Path.GetFullPath("some/child.dll"), ChildMode.Argument, "x"], l.Arguments(ChildMode.Argument, "x"));
    }

    [Fact]
    public void TryRun_ignores_ordinary_arguments()
    {
        Assert.Null(ChildMode.TryRun([]));
        Assert.Null(ChildMode.TryRun(["report", "--host"]));
    }

    [Fact]
    public void TryRun_rejects_a_bad_child_command_with_exit_code_2()
    {
        Assert.Equal(ChildMode.ExitUsage, ChildMode.TryRun([ChildMode.Argument]));
        Assert.Equal(ChildMode.ExitUsage, ChildMode.TryRun([ChildMode.Argument, "no-such-mode"]));
        Assert.Equal(ChildMode.ExitUsage, ChildMode.TryRun([ChildMode.Argument, ChildMode.LoadStop]));
        Assert.Equal(ChildMode.ExitUsage, ChildMode.TryRun([ChildMode.Argument, ChildMode.LoadStop, "not-a-seed"]));
    }
}
