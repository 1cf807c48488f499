namespace XsaveLab.Host.Interop;

/// <summary>The environment of the .NET children the probes and measurements start.</summary>
public static class ChildEnvironment
{
    /// <summary>With this variable at 0 the runtime opens neither its diagnostic IPC socket
    /// (<c>dotnet-diagnostic-PID-…</c>) nor its debugger pipes (<c>clr-debug-pipe-PID-in/out</c>) in the
    /// temporary folder. A child that is killed (SIGKILL cannot be caught) would otherwise leave all three
    /// entries behind.</summary>
    public const string DiagnosticsVariable = "DOTNET_EnableDiagnostics";

    /// <summary>The variables every child gets on top of this process's environment.</summary>
    public static FrozenDictionary<string, string?> Overrides { get; } =
        new Dictionary<string, string?> { [DiagnosticsVariable] = "0" }.ToFrozenDictionary();
}
