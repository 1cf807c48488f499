namespace XsaveLab.Arch.Cpuid;

/// <summary>Writes a profile in the project's compact form: <c>cpuid -r</c> lines of the leaves that matter,
/// preceded by <c># key: value</c> lines.</summary>
public static class CpuidTextWriter
{
    /// <summary>Leaves kept in a compact profile: 0x0, 0x1, 0x7.*, 0xD.*, 0x1D/0x1E (AMX palette),
    /// 0x80000000..0x80000004 (brand) and 0x80000008 (AMD XSaveErPtr).</summary>
    public static bool IsRelevant(CpuidLeaf l) => l.Leaf switch
    {
        0x0 or 0x1 => l.Subleaf == 0,
        0x7 => l.Subleaf <= 1,
        0xD => true,
        0x1D or 0x1E => true,
        >= 0x80000000 and <= 0x80000004 => l.Subleaf == 0,
        0x80000008 => l.Subleaf == 0,
        _ => false,
    };

    public static string Write(CpuProfile profile, IReadOnlyDictionary<string, string>? meta = null)
    {
        var sb = new StringBuilder();
        sb.Append("# name: ").Append(HeaderValue(profile.Name)).Append('\n');
        sb.Append("# source: ").Append(HeaderValue(profile.Source)).Append('\n');
        if (meta != null)
            foreach (var (k, v) in meta)
                sb.Append("# ").Append(HeaderValue(k).Replace(':', '_')).Append(": ").Append(HeaderValue(v)).Append('\n');
        sb.Append("CPU 0:\n");
        foreach (var l in profile.Leaves.Where(IsRelevant))
            sb.Append("   ").Append(l.ToString()).Append('\n');
        return sb.ToString();
    }

    /// <summary>A header value on one line: control characters (a newline would start a line of its own,
    /// which the reader could take for a leaf) are written as <c>\xNN</c>.</summary>
    private static string HeaderValue(string value)
    {
        if (!value.Any(char.IsControl))
            return value;
        var sb = new StringBuilder(value.Length + 8);
        foreach (char c in value)
            sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return sb.ToString();
    }
}
