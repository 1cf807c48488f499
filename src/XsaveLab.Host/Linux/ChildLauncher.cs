namespace XsaveLab.Host.Linux;

/// <summary>How to start a program that understands <see cref="ChildMode"/>'s arguments: an executable
/// and the arguments that come before the child-mode ones (e.g. <c>dotnet exec X.dll</c>).</summary>
public sealed record ChildLauncher(string Executable, IReadOnlyList<string> PrefixArguments)
{
    /// <summary>Run a framework-dependent assembly through the dotnet host of the running runtime.</summary>
    public static ChildLauncher ForAssembly(string assemblyPath) =>
        new(DotnetHost(), ["exec", Path.GetFullPath(assemblyPath)]);

    /// <summary>The program this process was started as (its apphost, or <c>dotnet exec</c> of the entry
    /// assembly when started through the dotnet host). Meant for the CLI, whose Main handles child mode.</summary>
    public static ChildLauncher Self()
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("process path unknown");
        string name = Path.GetFileNameWithoutExtension(process);
        if (name == "dotnet")
        {
            string entry = Assembly.GetEntryAssembly()?.Location
                ?? throw new InvalidOperationException("entry assembly unknown");
            return new ChildLauncher(process, ["exec", entry]);
        }
        return new ChildLauncher(process, []);
    }

    /// <summary>The <c>dotnet</c> host next to the shared runtime this process runs on
    /// (&lt;root&gt;/shared/Microsoft.NETCore.App/&lt;version&gt;/ → &lt;root&gt;/dotnet).</summary>
    public static string DotnetHost()
    {
        string runtimeDir = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd('/');
        string root = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
        string host = Path.Combine(root, "dotnet");
        if (File.Exists(host))
            return host;
        string? env = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (env is not null && File.Exists(env))
            return env;
        throw new InvalidOperationException($"dotnet host not found under {root}");
    }

    public IReadOnlyList<string> Arguments(params string[] childArguments) => [.. PrefixArguments, .. childArguments];
}
