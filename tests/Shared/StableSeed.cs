using System.Globalization;

namespace XsaveLab.Tests;

/// <summary>A seed derived from a test case's name that is the same in every process. <c>string.GetHashCode</c> and
/// <c>HashCode.Combine</c> are randomised per process, so seeds made from them changed on every run.</summary>
internal static class StableSeed
{
    /// <summary>FNV-1a (32 bits) of the parts joined with '/', as a non-negative int.</summary>
    public static int Of(params object[] parts)
    {
        uint h = 2166136261;
        foreach (char c in string.Join('/', parts.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture))))
            h = (h ^ c) * 16777619;
        return (int)(h & 0x7FFFFFFF);
    }
}
