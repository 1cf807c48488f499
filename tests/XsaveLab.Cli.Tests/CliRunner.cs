namespace XsaveLab.Cli.Tests;

internal sealed record CliResult(int ExitCode, string Out, string Err)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Err}";
}

internal static class CliRunner
{
    public static CliResult Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Program.Run(args, o, e);
        return new CliResult(code, o.ToString(), e.ToString());
    }

    /// <summary>Asserts the bad-input contract (exit 2, nothing on stdout, one line <c>error: …</c> on stderr)
    /// and returns that line.</summary>
    public static string OneError(CliResult r)
    {
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Equal("", r.Out);
        var lines = r.Err.TrimEnd('\n', '\r').Split('\n');
        Assert.True(lines.Length == 1, r.ToString());
        Assert.StartsWith("error: ", lines[0]);
        return lines[0];
    }
}
