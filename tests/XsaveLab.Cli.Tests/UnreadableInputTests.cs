namespace XsaveLab.Cli.Tests;

/// <summary><c>--cost-model</c> naming a special file (a FIFO once blocked it forever) is refused at once, and
/// <c>report</c> on a CPU the kernel model refuses still prints what it can answer.</summary>
public sealed class UnreadableInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xsavelab-cli-inputs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Runs the command on a worker thread, so that a reader that blocks fails the test instead of hanging it.</summary>
    private static CliResult RunWithin(TimeSpan limit, params string[] args) =>
        SpecialFiles.Within(limit, $"'{string.Join(' ', args)}'", () => CliRunner.Run(args));

    private static string[] Experiment(string costModel) => ["experiment", "cet-s", "--cpu", "spr", "--no-measure", "--cost-model", costModel];

    [SkippableFact]
    public void A_fifo_as_cost_model_fails_at_once_with_exit_2()
    {
        string fifo = SpecialFiles.Fifo(_dir, "model.fifo");
        // No writer ever opens the FIFO: a blocking open() would never return.
        string error = CliRunner.OneError(RunWithin(TimeSpan.FromSeconds(60), Experiment(fifo)));
        Assert.Contains(fifo, error);
        Assert.Contains("a FIFO", error);
    }

    [SkippableFact]
    public void A_device_or_a_directory_as_cost_model_is_refused()
    {
        Skip.IfNot(File.Exists("/dev/zero"), "no /dev/zero on this system");
        Assert.Contains("character device", CliRunner.OneError(RunWithin(TimeSpan.FromSeconds(60), Experiment("/dev/zero"))));
        Assert.Contains("is a directory", CliRunner.OneError(RunWithin(TimeSpan.FromSeconds(60), Experiment(_dir))));
    }

    /// <summary>Haswell without FXSR (CPUID.1:EDX[24] clear): the dump passes the CPUID checks, but the kernel
    /// model's task layer refuses the CPU (LinuxKernel needs FXSR).</summary>
    private string NoFxsrDump()
    {
        var p = CpuCatalog.Get("haswell");
        var edited = new CpuProfile("haswell-no-fxsr", p.Source, p.Leaves.Select(l => l.Leaf == 1 ? l with { Edx = l.Edx & ~(1u << 24) } : l).ToList());
        string path = Path.Combine(_dir, "no-fxsr.txt");
        File.WriteAllText(path, CpuidTextWriter.Write(edited));
        return path;
    }

    [Fact]
    public void Report_on_a_cpu_the_kernel_model_refuses_prints_the_answerable_sections_and_says_why_the_others_cannot_run()
    {
        var r = CliRunner.Run("report", "--cpuid", NoFxsrDump(), "--format", "json");
        Assert.True(r.ExitCode == 2, r.ToString());
        var err = r.Err.TrimEnd('\n').Split('\n');
        Assert.True(err.Length == 1 && err[0].StartsWith("error: ", StringComparison.Ordinal), r.ToString());
        Assert.Contains("FXSR", err[0]);
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        foreach (var answered in new[] { "profile", "layout", "findings" })
            Assert.False(root.GetProperty(answered).ValueKind == JsonValueKind.Object && root.GetProperty(answered).TryGetProperty("unavailable", out _), answered);
        foreach (var refused in new[] { "kernel", "kvm" })
        {
            Assert.Contains("FXSR", root.GetProperty(refused).GetProperty("unavailable").GetString());
            Assert.Contains(refused, err[0]);
        }
    }

    [Fact]
    public void Report_text_names_each_section_that_cannot_run()
    {
        var r = CliRunner.Run("report", "--cpuid", NoFxsrDump());
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("XSAVE layout", r.Out);
        Assert.Contains("Sanity checks", r.Out);
        Assert.Equal(2, r.Out.Split('\n').Count(l => l.StartsWith("cannot run on this CPU: ", StringComparison.Ordinal)));
        Assert.DoesNotContain("internal error", r.Err);
    }

    [Fact]
    public void Report_on_a_catalog_cpu_has_no_unavailable_section_and_exits_0()
    {
        var r = CliRunner.Run("report", "--cpu", "zen2-matisse", "--format", "json");
        Assert.True(r.ExitCode == 0 && r.Err == "", r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        foreach (var p in doc.RootElement.EnumerateObject())
            Assert.False(p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("unavailable", out _), p.Name);
    }
}
