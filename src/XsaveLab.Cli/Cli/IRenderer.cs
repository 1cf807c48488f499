using Spectre.Console;
namespace XsaveLab.Cli.Cli;

/// <summary>How one command shows its result: a JSON document (written by <see cref="Json"/>) or text on a Spectre
/// console, and the exit code the result means. A command handler parses its options, calls one library entry
/// point and hands the result to <see cref="CliContext.Render{T}"/> with its renderer.</summary>
public interface IRenderer<in T>
{
    /// <summary>The JSON document: a record listed in <see cref="CliJsonContext"/>.</summary>
    object ToJson(T result);

    void RenderText(IAnsiConsole console, T result);

    /// <summary>Warnings about the result (a busy machine, a wide spread), written to stderr before the result, one
    /// <c>warning: …</c> line each.</summary>
    IEnumerable<string> Warnings(T result) => [];

    /// <summary>0 unless the command checks something and the check failed (1).</summary>
    int ExitCode(T result) => 0;
}
