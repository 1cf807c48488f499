namespace XsaveLab.Kernel.Image;

/// <summary>One register whose value differs between two images; null where an image has no place for it.</summary>
public sealed record RegisterDifference(string Register, string? A, string? B);

/// <summary>Register-by-register comparison of two images of any kinds and layouts: values are compared as the
/// registers read (a component in its initial configuration reads as its initial values), so the same state in
/// two layouts or formats compares equal.</summary>
public static class ImageDiff
{
    public static IReadOnlyList<RegisterDifference> Compare(XsaveImage a, XsaveImage b)
    {
        var diffs = new List<RegisterDifference>();
        foreach (var r in ImageRegisters.All)
        {
            string? va = a.Has(r.Name) ? a.ReadRegisterHex(r.Name) : null;
            string? vb = b.Has(r.Name) ? b.ReadRegisterHex(r.Name) : null;
            if (va != vb)
                diffs.Add(new(r.Name, va, vb));
        }
        return diffs;
    }
}
