namespace XsaveLab.Cli.Cli;

/// <summary>Parses masks given on the command line: hex, with or without <c>0x</c>, <c>_</c> allowed as a
/// separator (<c>0x2e7</c>, <c>2E7</c>, <c>0x6_02e7</c>).</summary>
public static class HexMask
{
    public static ulong? Parse(string? text, string optionName)
    {
        if (text is null)
            return null;
        var s = text.Trim().Replace("_", "", StringComparison.Ordinal);
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            s = s[2..];
        if (s.Length == 0 || s.Length > 16 || !ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v))
            throw new UserErrorException($"{optionName}: '{SafeText.Excerpt(text)}' is not a hex mask of at most 64 bits (e.g. 0x2e7)");
        return v;
    }
}
