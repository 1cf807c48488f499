namespace XsaveLab.Kernel.Tests;

/// <summary>Where the repository and the shared folder are, and this machine's CPUID as a profile.</summary>
internal static class TestEnv
{
    private static readonly Lazy<string?> Root = new(() =>
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "XsaveLab.slnx")))
                return d.FullName;
        return null;
    });

    public static string? RepoRoot => Root.Value;

    public static string? DumpsDir
    {
        get
        {
            // <repo root>/../shared; a checkout nested one level deeper looks one more level up.
            for (var d = RepoRoot is null ? null : new DirectoryInfo(RepoRoot).Parent; d != null; d = d.Parent)
            {
                var dir = Path.Combine(d.FullName, "shared", "cpuid-dumps");
                if (Directory.Exists(dir))
                    return dir;
            }
            return null;
        }
    }

    /// <summary>The dumps of the shared folder, parsed (empty when the folder is absent).</summary>
    public static IReadOnlyList<CpuProfile> SharedDumps()
    {
        if (DumpsDir is not { } dir)
            return [];
        return Directory.GetFiles(dir, "*.txt").OrderBy(f => f, StringComparer.Ordinal).Select(CpuidTextReader.ReadFile).ToArray();
    }

    /// <summary>The built-in catalog (generated from those dumps).</summary>
    public static IReadOnlyList<CpuProfile> Catalog => XsaveLab.Arch.Catalog.CpuCatalog.All;

    public static IEnumerable<object[]> CatalogNames() => XsaveLab.Arch.Catalog.CpuCatalog.Names.Select(n => new object[] { n });

    public static CpuProfile CatalogCpu(string name) => XsaveLab.Arch.Catalog.CpuCatalog.Get(name);

    public static bool IsX86 => X86Base.IsSupported;

    /// <summary>This machine's CPUID: the leaves a profile keeps.</summary>
    public static CpuProfile HostProfile()
    {
        var leaves = new List<CpuidLeaf>();
        void Add(uint leaf, uint sub)
        {
            var (a, b, c, d) = X86Base.CpuId((int)leaf, (int)sub);
            leaves.Add(new CpuidLeaf(leaf, sub, (uint)a, (uint)b, (uint)c, (uint)d));
        }
        uint max = (uint)X86Base.CpuId(0, 0).Eax;
        Add(0, 0);
        Add(1, 0);
        if (max >= 7)
        {
            Add(7, 0);
            Add(7, 1);
        }
        if (max >= 0xD)
            for (uint s = 0; s < 64; s++)
                Add(0xD, s);
        if (max >= 0x1D)
            for (uint s = 0; s < 2; s++)
                Add(0x1D, s);
        uint emax = (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax;
        for (uint l = 0x80000000; l <= Math.Min(emax, 0x80000008); l++)
            Add(l, 0);
        return new CpuProfile("host", "cpuid instruction", leaves);
    }

    /// <summary>The <c>x86/fpu:</c> lines of the kernel log without timestamps, or null when unreadable.</summary>
    public static IReadOnlyList<string>? HostDmesg(string prefix)
    {
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("dmesg") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = System.Diagnostics.Process.Start(psi);
            if (p is null)
                return null;
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                return null;
            var lines = new List<string>();
            foreach (var raw in text.Split('\n'))
            {
                var l = raw;
                if (l.StartsWith('['))
                {
                    int close = l.IndexOf(']');
                    l = close > 0 ? l[(close + 1)..].TrimStart() : l;
                }
                if (l.StartsWith(prefix, StringComparison.Ordinal))
                    lines.Add(l.TrimEnd());
            }
            return lines.Count == 0 ? null : lines;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>A boolean option of the running kernel's configuration (/proc/config.gz), or null when unknown.</summary>
    public static bool? KernelConfigBool(string name)
    {
        try
        {
            using var fs = File.OpenRead("/proc/config.gz");
            using var gz = new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionMode.Decompress);
            using var reader = new StreamReader(gz);
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                if (line == $"{name}=y")
                    return true;
                if (line == $"# {name} is not set")
                    return false;
            }
            return false;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>auxv entry <paramref name="type"/> of this process, or null.</summary>
    public static ulong? Auxv(ulong type)
    {
        try
        {
            var bytes = File.ReadAllBytes("/proc/self/auxv");
            for (int i = 0; i + 16 <= bytes.Length; i += 16)
            {
                ulong t = BitConverter.ToUInt64(bytes, i);
                if (t == type)
                    return BitConverter.ToUInt64(bytes, i + 8);
                if (t == 0)
                    break;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
