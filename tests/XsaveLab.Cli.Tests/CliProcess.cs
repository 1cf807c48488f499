namespace XsaveLab.Cli.Tests;

/// <summary>The CLI as its own process, with <c>COLUMNS</c> set: the way a user runs it in a terminal of that width
/// (in-process runs write to a <see cref="StringWriter"/>, whose width is fixed).</summary>
internal static class CliProcess
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    public static CliResult Run(int columns, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = columns.ToString(CultureInfo.InvariantCulture);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Limit))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"xsavelab {string.Join(' ', args)} ran longer than {Limit}");
        }
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}
