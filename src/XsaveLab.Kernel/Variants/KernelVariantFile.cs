using XsaveLab.Arch.Input;
using XsaveLab.Kernel.Variants.Files;

namespace XsaveLab.Kernel.Variants;

/// <summary>A kernel variant file could not be used: the message names the file, the line (when the problem has
/// one) and the field, and is one line: <c>FILE: line N: field NAME: problem</c>.</summary>
public sealed class KernelVariantFileException(string file, string? field, string problem, int line = 0)
    : Exception(file + (line > 0 ? $": line {line}" : "") + (field is null ? "" : $": field {field}") + ": " + problem)
{
    public string File { get; } = file;
    public string? Field { get; } = field;

    /// <summary>The 1-based line of the problem; 0 when it has none (a missing field, an unreadable file).</summary>
    public int Line { get; } = line;
}

/// <summary>A kernel design as a file (docs/kernel-variant-files.md): a JSON object or a YAML mapping naming a
/// built-in parent variant and setting any of <see cref="KernelVariant"/>'s difference switches. Both syntaxes are
/// read into the same fields and go through one validation; everything not set is the parent's. Unknown fields,
/// wrong types and bad values are errors naming the line and the field; nothing is half-read.</summary>
public static class KernelVariantFile
{
    /// <summary>A variant file is at most this many bytes (a full file is under 2 KiB).</summary>
    public const int MaxBytes = 64 << 10;

    private static readonly TextFileLimits Limits = new("a kernel variant file", MaxBytes, StrictUtf8: true);

    /// <summary>The switches a file may set, with what each takes (the help text of the format).</summary>
    public static readonly IReadOnlyDictionary<string, string> Fields = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["name"] = "string (required): the variant's name; not a built-in name",
        ["parent"] = "string (required): the built-in variant the file changes",
        ["summary"] = "string: one line describing the design",
        ["cetUserSupported"] = "bool: component 11 (CET_U) is a supported supervisor feature (x86/shstk, 6.6)",
        ["cetKernelSupported"] = "bool: component 12 has a CPUID gate and is a supported supervisor feature (8b05b3c98816)",
        ["cetKernelName"] = "string: xfeature_names[12]",
        ["xfeatureMax"] = $"integer {XFeatureMaxLow} or {XFeatureTable.Count}: XFEATURE_MAX (one past APX since 6.16)",
        ["guestSupervisorMask"] = "number or \"0x…\" string: XFEATURE_MASK_GUEST_SUPERVISOR (151bf232494d)",
        ["hostDefaultsExcludeGuestSupervisor"] = "bool: host_default_mask() removes guest-only features (7bc4ed75f2d6, 151bf232494d)",
        ["guestState"] = "\"kernelDefaults\" | \"guestDefaults\": where fpu_alloc_guest_fpstate() sizes a guest fpstate (509e880b7795)",
        ["guestPerm"] = "\"copyOfPerm\" | \"guestDefaults\" | \"permPlusGuestSupervisor\": how fpstate_reset() sets guest_perm (7c2c89364d92)",
        ["statePermPreservesNonUser"] = "bool: __xstate_request_perm() keeps supervisor bits and flags (d8414603b29f)",
        ["fpuGuestHasPerm"] = "bool: struct fpu_guest has the perm field (32d5fa804dc9 removed it)",
        ["deferredGuestSupervisor"] = "bool: guest-only features are added by reallocation (the review's deferred design)",
        ["warnGuestOnlyInHostSave"] = "bool: os_xsave() warns on guest-only features in a host save (v3/v4)",
        ["xsaveLayoutNote"] = "bool: core files carry NT_X86_XSAVE_LAYOUT (ba386777a30b)",
        ["fpuAppendedToTask"] = "bool: struct fpu follows the task_struct in its slab object (81106b7e0b13)",
        ["slubOrder"] = "\"minObjectsLoop\" | \"halfWaste\": SLUB calculate_order() before / since 6.7",
    };

    /// <summary>The lowest <c>xfeatureMax</c>: one past XFEATURE_XTILE_DATA, the last component before APX.</summary>
    private const int XFeatureMaxLow = (int)XFeature.XtileData + 1;

    /// <summary>Reads and parses <paramref name="path"/>.</summary>
    public static KernelVariant Read(string path) =>
        Parse(BoundedTextFile.ReadOrThrow(path, Limits, e => new KernelVariantFileException(path, null, e.Message)), path);

    /// <summary>Parses a variant file's text; <paramref name="file"/> names it in errors and decides the syntax: a name
    /// ending in <c>.yaml</c> or <c>.yml</c> is YAML, <c>.json</c> JSON; otherwise a text starting with <c>{</c> or
    /// <c>[</c> is JSON and any other YAML.</summary>
    public static KernelVariant Parse(string text, string file)
    {
        if (text.Length > MaxBytes)
            throw new KernelVariantFileException(file, null, $"{Numbers.Int(text.Length)} characters; a kernel variant file is at most {Numbers.Bytes(MaxBytes)}");
        IReadOnlyList<VariantFileEntry> entries;
        try
        {
            entries = IsYaml(text, file) ? VariantFileYaml.Read(text) : VariantFileJson.Read(text);
        }
        catch (VariantFileSyntaxException e)
        {
            throw new KernelVariantFileException(file, null, e.Message, e.Line);
        }
        return Build(entries, file);
    }

    private static bool IsYaml(string text, string file)
    {
        string ext = Path.GetExtension(file);
        if (ext.Equals(".yaml", StringComparison.OrdinalIgnoreCase) || ext.Equals(".yml", StringComparison.OrdinalIgnoreCase))
            return true;
        if (ext.Equals(".json", StringComparison.OrdinalIgnoreCase))
            return false;
        return text.TrimStart('\uFEFF', ' ', '\t', '\r', '\n') is not ['{' or '[', ..];
    }

    /// <summary>The one validation both syntaxes go through.</summary>
    private static KernelVariant Build(IReadOnlyList<VariantFileEntry> entries, string file)
    {
        var byName = new Dictionary<string, VariantFileEntry>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (!Fields.ContainsKey(e.Name))
                throw Error(e, Quote(e.Name), $"unknown (known: {string.Join(", ", Fields.Keys)})");
            if (!byName.TryAdd(e.Name, e))
                throw Error(e, e.Name, $"given twice (first on line {byName[e.Name].Line})");
        }
        string name = Str("name") ?? throw new KernelVariantFileException(file, "name", "missing (every variant is named)");
        string parentName = Str("parent") ?? throw new KernelVariantFileException(file, "parent", $"missing (one of {Builtins})");
        if (name.Length is 0 or > 64 || name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            throw Error(byName["name"], "name", "1 to 64 characters, no blanks or control characters");
        if (KernelVariants.Find(name) is not null)
            throw Error(byName["name"], "name", $"'{name}' is a built-in variant; give the design its own name");
        var parent = KernelVariants.Find(parentName)
            ?? throw Error(byName["parent"], "parent", $"unknown variant {Quote(parentName)} (one of {Builtins})");

        var v = parent with
        {
            Name = name,
            Neighbour = new VariantNeighbour(parent.Name, "the parent the file changes"),
            Summary = Str("summary") ?? $"{parent.Name} changed by {Path.GetFileName(file)}",
            CetUserSupported = Bool("cetUserSupported") ?? parent.CetUserSupported,
            CetKernelSupported = Bool("cetKernelSupported") ?? parent.CetKernelSupported,
            CetKernelName = Str("cetKernelName") ?? parent.CetKernelName,
            XFeatureMax = XFeatureMax() ?? parent.XFeatureMax,
            GuestSupervisorMask = Mask("guestSupervisorMask") ?? parent.GuestSupervisorMask,
            HostDefaultsExcludeGuestSupervisor = Bool("hostDefaultsExcludeGuestSupervisor") ?? parent.HostDefaultsExcludeGuestSupervisor,
            GuestState = Enum<GuestStateSource>("guestState") ?? parent.GuestState,
            GuestPerm = Enum<GuestPermSource>("guestPerm") ?? parent.GuestPerm,
            StatePermPreservesNonUser = Bool("statePermPreservesNonUser") ?? parent.StatePermPreservesNonUser,
            FpuGuestHasPerm = Bool("fpuGuestHasPerm") ?? parent.FpuGuestHasPerm,
            DeferredGuestSupervisor = Bool("deferredGuestSupervisor") ?? parent.DeferredGuestSupervisor,
            WarnGuestOnlyInHostSave = Bool("warnGuestOnlyInHostSave") ?? parent.WarnGuestOnlyInHostSave,
            WritesXsaveLayoutNote = Bool("xsaveLayoutNote") ?? parent.WritesXsaveLayoutNote,
            FpuAppendedToTask = Bool("fpuAppendedToTask") ?? parent.FpuAppendedToTask,
            SlubOrder = Enum<Memory.SlubOrderRules>("slubOrder") ?? parent.SlubOrder,
        };
        // Component 12 support came with (and its handling builds on) the CET_U support of 6.6.
        if (v.CetKernelSupported && !v.CetUserSupported)
            throw Error(byName.GetValueOrDefault("cetUserSupported") ?? byName.GetValueOrDefault("cetKernelSupported"), "cetUserSupported",
                "false, but cetKernelSupported is true: component 12 is supported only next to component 11 (CET_U)");
        if ((v.GuestSupervisorMask & ~(v.SupervisorSupported & ~XFeatureMasks.Pasid & ~XFeatureMasks.CetUser)) != 0)
            throw Error(byName.GetValueOrDefault("guestSupervisorMask") ?? byName.GetValueOrDefault("cetKernelSupported") ?? byName.GetValueOrDefault("cetUserSupported"), "guestSupervisorMask",
                $"0x{v.GuestSupervisorMask:x} is not within the supported guest-only candidates (CET_KERNEL 0x{XFeatureMasks.CetKernel:x}, and only with cetKernelSupported)");
        var changes = entries.Where(e => e.Name is not ("name" or "parent" or "summary"))
            .Select(e => new VariantDifference(e.Name, $"{e.Name} = {e.Value.Display}", $"variant file {Path.GetFileName(file)}", VariantEffect.Any));
        return v with { Differences = [.. parent.Differences, .. changes] };

        VariantFileValue? Get(string field) => byName.TryGetValue(field, out var e) ? e.Value : null;

        string? Str(string field) => Get(field) switch
        {
            null => null,
            { Kind: VariantFileValueKind.String, Text.Length: <= 200 } s => s.Text,
            { Kind: VariantFileValueKind.String } s => throw Error(byName[field], field, $"{s.Text.Length} characters; at most 200"),
            var o => throw Error(byName[field], field, $"a string is expected, not {o.KindName}"),
        };

        bool? Bool(string field) => Get(field) switch
        {
            null => null,
            { Kind: VariantFileValueKind.Bool } b => b.Text == "true",
            var o => throw Error(byName[field], field, $"true or false is expected, not {o.KindName}"),
        };

        ulong? Mask(string field)
        {
            if (Get(field) is not { } e)
                return null;
            // A JSON number, a YAML integer (decimal or 0x…), or a "0x…" string in either syntax.
            if (e.Kind == VariantFileValueKind.Number && ulong.TryParse(e.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                return n;
            if (e.Kind is VariantFileValueKind.Number or VariantFileValueKind.String && e.Text.Length > 2 && e.Text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                && ulong.TryParse(e.Text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h))
                return h;
            throw Error(byName[field], field, "a non-negative integer or a \"0x…\" hex string is expected");
        }

        int? XFeatureMax()
        {
            if (Get("xfeatureMax") is not { } e)
                return null;
            if (e.Kind == VariantFileValueKind.Number && int.TryParse(e.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                && n is >= XFeatureMaxLow and <= XFeatureTable.Count)
                return n;
            throw Error(byName["xfeatureMax"], "xfeatureMax", $"{XFeatureMaxLow} (before APX, ≤6.15) or {XFeatureTable.Count} (6.16+) is expected");
        }

        T? Enum<T>(string field) where T : struct, System.Enum
        {
            if (Get(field) is not { } e)
                return null;
            var names = System.Enum.GetNames<T>().Select(n => char.ToLowerInvariant(n[0]) + n[1..]).ToArray();
            int i = e.Kind == VariantFileValueKind.String ? Array.IndexOf(names, e.Text) : -1;
            return i >= 0 ? System.Enum.GetValues<T>()[i]
                : throw Error(byName[field], field, $"one of {string.Join(", ", names.Select(n => $"\"{n}\""))} is expected");
        }

        KernelVariantFileException Error(VariantFileEntry? at, string field, string problem) =>
            new(file, field, problem, at?.Line ?? 0);
    }

    private static string Builtins => string.Join(", ", KernelVariants.All.Select(x => x.Name));

    /// <summary>A name from the file in a message: at most 40 characters, control characters as '?', so the message
    /// stays one line.</summary>
    private static string Quote(string name) =>
        "'" + new string([.. (name.Length > 40 ? name[..40] : name).Select(c => char.IsControl(c) ? '?' : c)]) + (name.Length > 40 ? "…" : "") + "'";
}
