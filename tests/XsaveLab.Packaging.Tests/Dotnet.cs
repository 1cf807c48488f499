namespace XsaveLab.Packaging.Tests;

/// <summary>Runs the dotnet host (the one running these tests) as a child process with its output captured.</summary>
public static class Dotnet
{
    /// <summary>The dotnet executable: DOTNET_HOST_PATH as the SDK sets it for child processes, else the one on PATH.</summary>
    public static string Host { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p : "dotnet";

    /// <summary>The directory of the dotnet host: an installed tool's launcher finds the runtime through DOTNET_ROOT.</summary>
    public static string? Root => Host == "dotnet" ? null : Path.GetDirectoryName(Path.GetFullPath(Host));

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    public static Result Run(string file, IEnumerable<string> args, string workDir, IReadOnlyDictionary<string, string> env, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in env)
            psi.Environment[k] = v;
        // The child must not inherit the test host's own MSBuild/test settings.
        psi.Environment.Remove("MSBuildExtensionsPath");
        psi.Environment.Remove("MSBuildSDKsPath");
        psi.Environment.Remove("MSBUILD_EXE_PATH");
        using var proc = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        proc.StandardInput.Close();
        var stdout = proc.StandardOutput.ReadToEndAsync();
        var stderr = proc.StandardError.ReadToEndAsync();
        if (!proc.WaitForExit(timeout))
        {
            proc.Kill(entireProcessTree: true);
            proc.WaitForExit();
            return new Result(-1, stdout.Result, stderr.Result + $"\n(killed after {timeout.TotalSeconds} s)");
        }
        proc.WaitForExit();
        return new Result(proc.ExitCode, stdout.Result, stderr.Result);
    }
}
