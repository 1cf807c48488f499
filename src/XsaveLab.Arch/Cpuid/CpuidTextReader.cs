using System.Globalization;
using System.Text.RegularExpressions;

namespace XsaveLab.Arch.Cpuid;

/// <summary>Reads CPUID dumps (format detected from the content) into <see cref="CpuProfile"/>s.
/// Only the first logical CPU of a multi-CPU dump is read.</summary>
public static partial class CpuidTextReader
{
    [GeneratedRegex(@"^\s*CPUID\s+([0-9A-Fa-f]{8}):\s*([0-9A-Fa-f]{8})-([0-9A-Fa-f]{8})-([0-9A-Fa-f]{8})-([0-9A-Fa-f]{8})(?:\s*\[SL\s+([0-9A-Fa-f]{2,8})\])?")]
    private static partial Regex InstLatLine();

    /// <summary>Looks like a leaf line (<c>CPUID 0000000D:</c>) whatever follows; other "CPUID …" lines
    /// (e.g. "CPUID Manufacturer: …" in AIDA64 summaries) are prose.</summary>
    [GeneratedRegex(@"^\s*CPUID\s+[0-9A-Fa-f]{8}\s*:")]
    private static partial Regex InstLatLeafStart();

    [GeneratedRegex(@"^\s*0x([0-9A-Fa-f]{1,8})\s+0x([0-9A-Fa-f]{1,8}):\s*eax=0x([0-9A-Fa-f]{1,8})\s+ebx=0x([0-9A-Fa-f]{1,8})\s+ecx=0x([0-9A-Fa-f]{1,8})\s+edx=0x([0-9A-Fa-f]{1,8})\s*$")]
    private static partial Regex RawLine();

    [GeneratedRegex(@"^\s*CPU\s*\d*\s*:\s*$")]
    private static partial Regex RawCpuHeader();

    [GeneratedRegex(@"^-+\[\s*CPUID Registers / Logical CPU #\s*(\d+)")]
    private static partial Regex InstLatCpuHeader();

    /// <summary>Reads a file; the profile is named after the file unless the text names itself
    /// (<c># name: …</c>).</summary>
    public static CpuProfile ReadFile(string path)
    {
        if (Directory.Exists(path))
            throw new CpuProfileFormatException(path, 0, "is a directory, not a CPUID dump file");
        if (!File.Exists(path))
            throw new CpuProfileFormatException(path, 0, "file not found");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CpuProfileFormatException(path, 0, $"cannot read the file ({e.Message})");
        }
        return Parse(text, path);
    }

    /// <summary>Detects the format of <paramref name="text"/>, or null when no line looks like CPUID output.</summary>
    public static CpuidTextFormat? Detect(string text)
    {
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var s = line.ToString();
            if (InstLatLine().IsMatch(s))
                return CpuidTextFormat.InstLatx64;
            if (RawLine().IsMatch(s))
                return CpuidTextFormat.CpuidRaw;
        }
        return null;
    }

    /// <summary>Parses a dump. <paramref name="file"/> is used in error messages and as the source name.</summary>
    public static CpuProfile Parse(string text, string file)
    {
        var format = Detect(text) ?? throw new CpuProfileFormatException(file, 0,
            "not a CPUID dump: no line in InstLatx64 form ('CPUID 0000000D: EAX-EBX-ECX-EDX [SL 01]') or 'cpuid -r' form ('0x0000000d 0x01: eax=0x… ebx=0x… ecx=0x… edx=0x…')");
        var leaves = new List<CpuidLeaf>();
        var meta = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int lineNo = 0;
        bool seenCpuHeader = false, seenLeaf = false;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            if (line.StartsWith('#'))
            {
                int colon = line.IndexOf(':');
                if (colon > 1)
                    meta[line[1..colon].Trim()] = line[(colon + 1)..].Trim();
                continue;
            }
            if (format == CpuidTextFormat.InstLatx64)
            {
                if (InstLatCpuHeader().Match(line) is { Success: true } && seenLeaf)
                    break; // second logical CPU
                var m = InstLatLine().Match(line);
                if (!m.Success)
                {
                    if (InstLatLeafStart().IsMatch(line))
                        throw new CpuProfileFormatException(file, lineNo, $"malformed CPUID line: '{line.Trim()}'");
                    continue;
                }
                uint leaf = Hex(m.Groups[1].Value);
                if (leaf == 0 && leaves.Any(l => l.Leaf == 0))
                    break; // a dump without per-CPU headers repeats leaf 0 for the next CPU
                uint sub = m.Groups[6].Success ? Hex(m.Groups[6].Value) : 0;
                Add(leaves, new CpuidLeaf(leaf, sub, Hex(m.Groups[2].Value), Hex(m.Groups[3].Value), Hex(m.Groups[4].Value), Hex(m.Groups[5].Value)));
                seenLeaf = true;
            }
            else
            {
                if (RawCpuHeader().IsMatch(line))
                {
                    if (seenCpuHeader && seenLeaf)
                        break; // "CPU 1:" — only the first CPU is read
                    seenCpuHeader = true;
                    continue;
                }
                var m = RawLine().Match(line);
                if (!m.Success)
                {
                    if (line.TrimStart().StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                        throw new CpuProfileFormatException(file, lineNo, $"malformed 'cpuid -r' line: '{line.Trim()}'");
                    continue;
                }
                Add(leaves, new CpuidLeaf(Hex(m.Groups[1].Value), Hex(m.Groups[2].Value), Hex(m.Groups[3].Value), Hex(m.Groups[4].Value), Hex(m.Groups[5].Value), Hex(m.Groups[6].Value)));
                seenLeaf = true;
            }
        }

        if (!leaves.Any(l => l.Leaf == 0))
            throw new CpuProfileFormatException(file, 0, "the dump has no CPUID leaf 0 (vendor and maximum leaf)");
        if (!leaves.Any(l => l.Leaf == 1))
            throw new CpuProfileFormatException(file, 0, "the dump has no CPUID leaf 1 (signature and XSAVE bit)");
        var l0 = leaves.First(l => l.Leaf == 0);
        var l1 = leaves.First(l => l.Leaf == 1);
        bool claimsXsave = (l1.Ecx >> 26 & 1) != 0;
        if ((claimsXsave || l0.Eax >= 0xD) && !leaves.Any(l => l.Leaf == 0xD && l.Subleaf == 0))
            throw new CpuProfileFormatException(file, 0,
                claimsXsave ? "the CPU reports XSAVE (CPUID.1:ECX[26]) but the dump has no leaf 0xD"
                            : $"the dump's maximum leaf is 0x{l0.Eax:X} but it has no leaf 0xD");

        string name = meta.GetValueOrDefault("name") ?? Path.GetFileNameWithoutExtension(file);
        string source = meta.GetValueOrDefault("source") ?? Path.GetFileName(file);
        return new CpuProfile(name, source, leaves);
    }

    private static void Add(List<CpuidLeaf> leaves, CpuidLeaf leaf)
    {
        // The first occurrence wins (the dump tools print each (leaf, subleaf) once per CPU).
        if (!leaves.Any(l => l.Leaf == leaf.Leaf && l.Subleaf == leaf.Subleaf))
            leaves.Add(leaf);
    }

    private static uint Hex(string s) => uint.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
