namespace XsaveLab.Arch.Cpuid;

/// <summary>Reads CPUID dumps (format detected from the content) into <see cref="CpuProfile"/>s.
/// Only the first logical CPU of a multi-CPU dump is read. Every profile read passes
/// <see cref="CpuProfileValidation"/>; input limits: <see cref="CpuProfileLimits"/> (docs/cpuid-input.md).</summary>
public static partial class CpuidTextReader
{
    /// <summary>Longest <c># name:</c> or <c># source:</c> value: they name the CPU in every output and message.</summary>
    private const int MaxHeaderChars = 128;

    private static readonly TextFileLimits FileLimits =
        new("a CPUID dump", CpuProfileLimits.MaxFileBytes, CpuProfileLimits.MaxLineChars, "a CPUID dump line");

    // Register fields are exactly eight hex digits: a ninth would otherwise be dropped and the value misread.
    [GeneratedRegex(@"^\s*CPUID\s+([0-9A-Fa-f]{8}):\s*([0-9A-Fa-f]{8})-([0-9A-Fa-f]{8})-([0-9A-Fa-f]{8})-([0-9A-Fa-f]{8})(?![0-9A-Fa-f-])")]
    private static partial Regex InstLatLine();

    /// <summary>The sub-leaf tag after the registers; any number of digits, so that an out-of-range sub-leaf
    /// (<c>[SL 1FFFFFFFF]</c>) is refused instead of being taken for a line without a tag.</summary>
    [GeneratedRegex(@"\G\s*\[SL\s+([0-9A-Fa-f]+)\]")]
    private static partial Regex InstLatSubleaf();

    /// <summary>Looks like a leaf line (<c>CPUID 0000000D:</c>) whatever follows; other "CPUID …" lines
    /// (e.g. "CPUID Manufacturer: …" in AIDA64 summaries) are prose.</summary>
    [GeneratedRegex(@"^\s*CPUID\s+[0-9A-Fa-f]+\s*:")]
    private static partial Regex InstLatLeafStart();

    [GeneratedRegex(@"^\s*0x([0-9A-Fa-f]{1,8})\s+0x([0-9A-Fa-f]{1,8}):\s*eax=0x([0-9A-Fa-f]{1,8})\s+ebx=0x([0-9A-Fa-f]{1,8})\s+ecx=0x([0-9A-Fa-f]{1,8})\s+edx=0x([0-9A-Fa-f]{1,8})\s*$")]
    private static partial Regex RawLine();

    [GeneratedRegex(@"^\s*CPU\s*\d*\s*:\s*$")]
    private static partial Regex RawCpuHeader();

    [GeneratedRegex(@"^-+\[\s*CPUID Registers / Logical CPU #\s*(\d+)")]
    private static partial Regex InstLatCpuHeader();

    /// <summary>Reads a file; the profile is named after the file unless the text names itself
    /// (<c># name: …</c>). Only a regular file of at most <see cref="CpuProfileLimits.MaxFileBytes"/> is read.</summary>
    public static CpuProfile ReadFile(string path) =>
        Parse(BoundedTextFile.ReadOrThrow(path, FileLimits, e => new CpuProfileFormatException(path, e.Line, e.Message)), path);

    /// <summary>Detects the format of <paramref name="text"/>, or null when no line looks like CPUID output.</summary>
    public static CpuidTextFormat? Detect(string text)
    {
        foreach (var line in BoundedTextFile.Lines(text))
        {
            if (line.Text.Length > CpuProfileLimits.MaxLineChars)
                continue;
            var s = line.Text.ToString();
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
        if (text.Length > CpuProfileLimits.MaxFileBytes)
            throw new CpuProfileFormatException(file, 0, $"the text has {text.Length} characters; a CPUID dump is at most {CpuProfileLimits.MaxFileBytes} bytes (4 MiB)");
        foreach (var line in BoundedTextFile.Lines(text))
            if (line.Text.Length > CpuProfileLimits.MaxLineChars)
                throw new CpuProfileFormatException(file, line.Number, $"the line has {line.Text.Length} characters; a CPUID dump line is at most {CpuProfileLimits.MaxLineChars}");
        var format = Detect(text) ?? throw new CpuProfileFormatException(file, 0,
            "not a CPUID dump: no line in InstLatx64 form ('CPUID 0000000D: EAX-EBX-ECX-EDX [SL 01]') or 'cpuid -r' form ('0x0000000d 0x01: eax=0x… ebx=0x… ecx=0x… edx=0x…')");
        var leaves = new List<CpuidLeaf>();
        var lineOf = new Dictionary<(uint, uint), int>();
        var meta = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        bool seenCpuHeader = false;
        foreach (var (number, span) in BoundedTextFile.Lines(text))
        {
            int lineNo = number;
            var line = span.ToString();
            if (line.StartsWith('#'))
            {
                int colon = line.IndexOf(':');
                if (colon > 1)
                    meta[line[1..colon].Trim()] = line[(colon + 1)..].Trim();
                if (colon > 1 && line[1..colon].Trim() is var key && (key.Equals("name", StringComparison.OrdinalIgnoreCase) || key.Equals("source", StringComparison.OrdinalIgnoreCase))
                    && (meta[key].Length > MaxHeaderChars || meta[key].Any(char.IsControl)))
                    throw new CpuProfileFormatException(file, lineNo, $"the '# {key}:' header must be one line of at most {MaxHeaderChars} characters without control characters");
                continue;
            }
            CpuidLeaf leaf;
            if (format == CpuidTextFormat.InstLatx64)
            {
                if (InstLatCpuHeader().Match(line) is { Success: true } && leaves.Count > 0)
                    break; // second logical CPU
                var m = InstLatLine().Match(line);
                if (!m.Success)
                {
                    if (InstLatLeafStart().IsMatch(line))
                        throw new CpuProfileFormatException(file, lineNo, $"malformed CPUID line: {Excerpt(line)}");
                    continue;
                }
                uint sub = 0;
                var rest = line.AsSpan(m.Length);
                if (rest.TrimStart().StartsWith("[SL", StringComparison.OrdinalIgnoreCase))
                {
                    var sl = InstLatSubleaf().Match(line, m.Length);
                    if (!sl.Success || !TryHex(sl.Groups[1].Value, out sub))
                        throw new CpuProfileFormatException(file, lineNo,
                            $"malformed sub-leaf tag: {Excerpt(rest.ToString())}; expected '[SL n]' with n a 32-bit hexadecimal number");
                }
                leaf = new CpuidLeaf(Hex(m.Groups[1].Value), sub, Hex(m.Groups[2].Value), Hex(m.Groups[3].Value), Hex(m.Groups[4].Value), Hex(m.Groups[5].Value));
            }
            else
            {
                if (RawCpuHeader().IsMatch(line))
                {
                    if (seenCpuHeader && leaves.Count > 0)
                        break; // "CPU 1:" — only the first CPU is read
                    seenCpuHeader = true;
                    continue;
                }
                var m = RawLine().Match(line);
                if (!m.Success)
                {
                    if (line.TrimStart().StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                        throw new CpuProfileFormatException(file, lineNo, $"malformed 'cpuid -r' line: {Excerpt(line)}");
                    continue;
                }
                leaf = new CpuidLeaf(Hex(m.Groups[1].Value), Hex(m.Groups[2].Value), Hex(m.Groups[3].Value), Hex(m.Groups[4].Value), Hex(m.Groups[5].Value), Hex(m.Groups[6].Value));
            }
            if (leaf.Leaf == 0 && leaf.Subleaf == 0 && lineOf.ContainsKey((0, 0)))
                break; // a dump without per-CPU headers starts the next CPU with leaf 0 again
            if (lineOf.ContainsKey((leaf.Leaf, leaf.Subleaf)) && !CpuidTextWriter.IsRelevant(leaf))
                continue; // older dumps list the sub-leaves of leaves 4 and 0xB without tags; they are never used
            if (!lineOf.TryAdd((leaf.Leaf, leaf.Subleaf), lineNo))
                throw new CpuProfileFormatException(file, lineNo,
                    $"CPUID(0x{leaf.Leaf:x},{leaf.Subleaf}) is listed again (first on line {lineOf[(leaf.Leaf, leaf.Subleaf)]}); a dump gives each leaf and sub-leaf once per CPU");
            leaves.Add(leaf);
        }

        if (!lineOf.TryGetValue((0, 0), out int line0))
            throw new CpuProfileFormatException(file, 0, "the dump has no CPUID leaf 0 (vendor and maximum leaf)");
        if (!lineOf.ContainsKey((1, 0)))
            throw new CpuProfileFormatException(file, 0, "the dump has no CPUID leaf 1 (signature and XSAVE bit)");
        var l0 = leaves.First(l => l.Leaf == 0 && l.Subleaf == 0);
        var l1 = leaves.First(l => l.Leaf == 1 && l.Subleaf == 0);
        bool claimsXsave = (l1.Ecx >> 26 & 1) != 0;
        if ((claimsXsave || l0.Eax >= 0xD) && !lineOf.ContainsKey((0xD, 0)))
            throw new CpuProfileFormatException(file, claimsXsave ? lineOf[(1, 0)] : line0,
                claimsXsave ? "the CPU reports XSAVE (CPUID.1:ECX[26]) but the dump has no leaf 0xd"
                            : $"the dump's maximum leaf is 0x{l0.Eax:x} but it has no leaf 0xd");

        string name = meta.GetValueOrDefault("name") ?? Path.GetFileNameWithoutExtension(file);
        string source = meta.GetValueOrDefault("source") ?? Path.GetFileName(file);
        var profile = new CpuProfile(name, source, leaves);
        if (CpuProfileValidation.FirstProblem(profile) is { } problem)
            throw new CpuProfileFormatException(file, lineOf.GetValueOrDefault((problem.Leaf, problem.Subleaf)), problem.Message);
        return profile;
    }

    /// <summary>At most 60 characters of <paramref name="s"/>, quoted, with control characters escaped, so that
    /// an error stays one short line whatever the input holds.</summary>
    private static string Excerpt(string s)
    {
        s = s.Trim();
        var sb = new StringBuilder("'");
        foreach (char c in s.Length > 60 ? s[..60] : s)
            sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return sb.Append(s.Length > 60 ? "…'" : "'").ToString();
    }

    private static uint Hex(string s) => uint.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static bool TryHex(string s, out uint value) =>
        uint.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
