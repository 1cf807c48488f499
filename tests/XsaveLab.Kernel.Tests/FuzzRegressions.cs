namespace XsaveLab.Kernel.Tests;

/// <summary>Inputs that once failed a fuzz target, kept as files copied next to the tests (one folder per target).</summary>
internal static class FuzzRegressions
{
    /// <summary>The names of the files in <paramref name="folder"/> matching <paramref name="pattern"/>, in ordinal order.</summary>
    public static TheoryData<string> Files(string folder, string pattern)
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, folder), pattern).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    /// <summary>The text of <paramref name="file"/> in <paramref name="folder"/>.</summary>
    public static string Text(string folder, string file) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, folder, file));
}
