namespace XsaveLab.Kvm.Script;

/// <summary>What a pitfall script is about, from its first three comment lines: <c># Pitfall: WHAT</c> (what goes
/// wrong), <c># Kernels: WHICH</c> (the kernels it applies to) and <c># Shows: HOW</c> (how it shows). The script text
/// is the one source, so a printed template carries it too.</summary>
public sealed record PitfallHeadline(string What, string Kernels, string Shows)
{
    private static readonly string[] Keys = ["Pitfall", "Kernels", "Shows"];

    /// <summary>The headline of <paramref name="script"/>, or null when its first comment lines are not one.</summary>
    public static PitfallHeadline? Read(string script)
    {
        var values = new string[Keys.Length];
        var lines = script.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Take(Keys.Length).ToArray();
        if (lines.Length < Keys.Length)
            return null;
        for (int i = 0; i < Keys.Length; i++)
        {
            string prefix = $"# {Keys[i]}: ";
            if (!lines[i].StartsWith(prefix, StringComparison.Ordinal) || lines[i].Length == prefix.Length)
                return null;
            values[i] = lines[i][prefix.Length..].Trim();
        }
        return new PitfallHeadline(values[0], values[1], values[2]);
    }
}
