namespace XsaveLab.Kvm.Script;

/// <summary>Reads a VMM script through <see cref="BoundedTextFile"/>: only a regular file of at most
/// <see cref="ScriptText.MaxFileBytes"/>, lines of at most <see cref="ScriptText.MaxLineChars"/>. Every problem is
/// a <see cref="VmmScriptException"/> naming the file.</summary>
internal static class ScriptFile
{
    private static readonly TextFileLimits Limits =
        new("a VMM script", ScriptText.MaxFileBytes, ScriptText.MaxLineChars, "a script line");

    public static string ReadText(string path) =>
        BoundedTextFile.TryRead(path, Limits, out var text, out var error)
            ? text
            : throw new VmmScriptException(path, error.Line, error.Message);
}
