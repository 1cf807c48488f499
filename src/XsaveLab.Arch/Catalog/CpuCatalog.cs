namespace XsaveLab.Arch.Catalog;

/// <summary>The built-in CPUs: compact profiles (the <c>cpuid -r</c> form written by
/// <see cref="CpuidTextWriter"/>, only the leaves that matter) embedded in this assembly. Each was generated
/// from a real CPUID dump with <see cref="ToCompactProfile"/>; the CPUID values are the dump's, never typed.</summary>
public static class CpuCatalog
{
    /// <summary>The CPU used when no other is named and the host cannot serve: Sapphire Rapids has CET and
    /// AMX (aligned, XFD-capable components), so every view has something to show.</summary>
    public const string DefaultName = "spr";

    private const string ResourcePrefix = "XsaveLab.Arch.Profiles.";
    private const string ResourceSuffix = ".cpuid";

    // Immutable once built; loading is deferred so that a program that never asks pays nothing.
    private static readonly Lazy<IReadOnlyList<CatalogEntry>> Loaded = new(Load);

    /// <summary>Every built-in CPU, Intel first, then AMD, each by CPUID.1 signature
    /// (extended model/family grow with the generation).</summary>
    public static IReadOnlyList<CatalogEntry> Entries => Loaded.Value;

    public static IReadOnlyList<CpuProfile> All => [.. Entries.Select(e => e.Profile)];

    public static IReadOnlyList<string> Names => [.. Entries.Select(e => e.Name)];

    public static CpuProfile Default => Get(DefaultName);

    /// <summary>Finds a CPU by short name, ignoring case.</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out CpuProfile? profile)
    {
        profile = TryGetEntry(name, out var e) ? e.Profile : null;
        return profile != null;
    }

    public static bool TryGetEntry(string name, [NotNullWhen(true)] out CatalogEntry? entry)
    {
        entry = Entries.FirstOrDefault(x => string.Equals(x.Name, name, StringComparison.OrdinalIgnoreCase));
        return entry != null;
    }

    /// <summary>The profile named <paramref name="name"/>; throws for a name not in the catalog (callers
    /// holding user input use <see cref="TryGet"/>).</summary>
    public static CpuProfile Get(string name) => TryGet(name, out var p)
        ? p
        : throw new ArgumentException($"no built-in CPU named '{name}'; known: {string.Join(", ", Names)}", nameof(name));

    /// <summary>The compact profile text for a dump: the relevant leaves of its first CPU in <c>cpuid -r</c>
    /// form, headed by <c># name:</c>, <c># source:</c> (the dump's file name) and <c># description:</c>.</summary>
    public static string ToCompactProfile(CpuProfile dump, string name, string description)
    {
        var named = new CpuProfile(name, dump.Source, dump.Leaves);
        return CpuidTextWriter.Write(named, new Dictionary<string, string> { ["description"] = description });
    }

    private static IReadOnlyList<CatalogEntry> Load()
    {
        var asm = typeof(CpuCatalog).Assembly;
        var list = new List<CatalogEntry>();
        foreach (var res in asm.GetManifestResourceNames())
        {
            if (!res.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !res.EndsWith(ResourceSuffix, StringComparison.Ordinal))
                continue;
            string text = ReadResource(asm, res);
            string file = res[ResourcePrefix.Length..];
            var profile = CpuidTextReader.Parse(text, file);
            list.Add(new CatalogEntry(profile.Name, profile.Source, Header(text, "description") ?? "", profile));
        }
        return [.. list.OrderBy(e => e.Profile.Vendor == CpuVendor.Intel ? 0 : 1)
                       .ThenBy(e => e.Profile.Signature)
                       .ThenBy(e => e.Name, StringComparer.Ordinal)];
    }

    private static string ReadResource(Assembly asm, string name)
    {
        using var s = asm.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded profile {name} is missing");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    private static string? Header(string text, string key)
    {
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var s = line.Trim();
            if (!s.StartsWith("#"))
                continue;
            var body = s[1..].Trim();
            int colon = body.IndexOf(':');
            if (colon > 0 && body[..colon].Trim().Equals(key, StringComparison.OrdinalIgnoreCase))
                return body[(colon + 1)..].Trim().ToString();
        }
        return null;
    }
}
