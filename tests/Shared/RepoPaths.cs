namespace XsaveLab.Tests;

/// <summary>Where the repository and the shared reference data are, found at run time (never a fixed path).</summary>
internal static class RepoPaths
{
    /// <summary>The directory holding XsaveLab.slnx, found by walking up from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary><c>&lt;repo&gt;/../shared/cpuid-dumps</c> (also looked for further up, for checkouts nested one
    /// level deeper), or null when it is not there.</summary>
    public static string? CpuidDumps => Shared("cpuid-dumps");

    /// <summary>A folder under the shared reference directory next to the repository, or null.</summary>
    public static string? Shared(string sub)
    {
        for (var d = Directory.GetParent(Root); d != null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared", sub);
            if (Directory.Exists(candidate))
                return candidate;
        }
        return null;
    }

    public const string NoDumps = "the shared CPUID dumps (<repo>/../shared/cpuid-dumps) are not present";

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "XsaveLab.slnx")))
                return d.FullName;
        throw new InvalidOperationException($"XsaveLab.slnx not found above {AppContext.BaseDirectory}");
    }
}
