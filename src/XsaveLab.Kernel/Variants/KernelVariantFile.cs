using System.Text.Json;
using XsaveLab.Arch.Input;

namespace XsaveLab.Kernel.Variants;

/// <summary>A kernel variant file could not be used: the message names the file and the field (or the JSON
/// position) and is one line.</summary>
public sealed class KernelVariantFileException(string file, string? field, string problem)
    : Exception(field is null ? $"{file}: {problem}" : $"{file}: field {field}: {problem}")
{
    public string File { get; } = file;
    public string? Field { get; } = field;
}

/// <summary>A kernel design as a file (docs/kernel-variant-files.md): a JSON object naming a built-in parent
/// variant and setting any of <see cref="KernelVariant"/>'s difference switches. Everything not set is the
/// parent's. Unknown fields, wrong types and bad values are errors naming the field; nothing is half-read.</summary>
public static class KernelVariantFile
{
    /// <summary>A variant file is at most this many bytes (a full file is under 1 KiB).</summary>
    public const int MaxBytes = 64 << 10;

    private static readonly TextFileLimits Limits = new("a kernel variant file", MaxBytes, StrictUtf8: true);

    /// <summary>The switches a file may set, with what each takes (the help text of the format).</summary>
    public static readonly IReadOnlyDictionary<string, string> Fields = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["name"] = "string (required): the variant's name; not a built-in name",
        ["parent"] = "string (required): the built-in variant the file changes",
        ["summary"] = "string: one line describing the design",
        ["cetKernelSupported"] = "bool: component 12 has a CPUID gate and is a supported supervisor feature (8b05b3c98816)",
        ["cetKernelName"] = "string: xfeature_names[12]",
        ["guestSupervisorMask"] = "number or \"0x…\" string: XFEATURE_MASK_GUEST_SUPERVISOR (151bf232494d)",
        ["hostDefaultsExcludeGuestSupervisor"] = "bool: host_default_mask() removes guest-only features (7bc4ed75f2d6)",
        ["guestState"] = "\"kernelDefaults\" | \"guestDefaults\": where fpu_alloc_guest_fpstate() sizes a guest fpstate (509e880b7795)",
        ["guestPerm"] = "\"copyOfPerm\" | \"guestDefaults\" | \"permPlusGuestSupervisor\": how fpstate_reset() sets guest_perm (7c2c89364d92)",
        ["statePermPreservesNonUser"] = "bool: __xstate_request_perm() keeps supervisor bits and flags (d8414603b29f)",
        ["fpuGuestHasPerm"] = "bool: struct fpu_guest has the perm field (32d5fa804dc9 removed it)",
        ["deferredGuestSupervisor"] = "bool: guest-only features are added by reallocation (the review's deferred design)",
        ["warnGuestOnlyInHostSave"] = "bool: os_xsave() warns on guest-only features in a host save (v3/v4)",
    };

    /// <summary>Reads and parses <paramref name="path"/>.</summary>
    public static KernelVariant Read(string path) =>
        Parse(BoundedTextFile.ReadOrThrow(path, Limits, e => new KernelVariantFileException(path, null, e.Message)), path);

    /// <summary>Parses a variant file's text; <paramref name="file"/> names it in errors.</summary>
    public static KernelVariant Parse(string text, string file)
    {
        if (text.Length > MaxBytes)
            throw new KernelVariantFileException(file, null, $"{Numbers.Int(text.Length)} characters; a kernel variant file is at most {Numbers.Bytes(MaxBytes)}");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException e)
        {
            throw new KernelVariantFileException(file, null, $"not JSON at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new KernelVariantFileException(file, null, $"the file holds a JSON {Kind(root)}; a variant file is one JSON object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
            {
                if (!Fields.ContainsKey(p.Name))
                    throw new KernelVariantFileException(file, Quote(p.Name), $"unknown (known: {string.Join(", ", Fields.Keys)})");
                if (!seen.Add(p.Name))
                    throw new KernelVariantFileException(file, p.Name, "given twice");
            }
            string name = Str(root, "name") ?? throw new KernelVariantFileException(file, "name", "missing (every variant is named)");
            string parentName = Str(root, "parent") ?? throw new KernelVariantFileException(file, "parent", $"missing (one of {string.Join(", ", KernelVariants.All.Select(x => x.Name))})");
            if (name.Length is 0 or > 64 || name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
                throw new KernelVariantFileException(file, "name", "1 to 64 characters, no blanks or control characters");
            if (KernelVariants.Find(name) is not null)
                throw new KernelVariantFileException(file, "name", $"'{name}' is a built-in variant; give the design its own name");
            var parent = KernelVariants.Find(parentName)
                ?? throw new KernelVariantFileException(file, "parent", $"unknown variant '{Bounded(parentName)}' (one of {string.Join(", ", KernelVariants.All.Select(x => x.Name))})");

            var changes = new List<VariantDifference>();
            var v = parent with
            {
                Name = name,
                Neighbour = new VariantNeighbour(parent.Name, "the parent the file changes"),
                Summary = Str(root, "summary") ?? $"{parent.Name} changed by {Path.GetFileName(file)}",
                CetKernelSupported = Bool(root, "cetKernelSupported") ?? parent.CetKernelSupported,
                CetKernelName = Str(root, "cetKernelName") ?? parent.CetKernelName,
                GuestSupervisorMask = Mask(root, "guestSupervisorMask") ?? parent.GuestSupervisorMask,
                HostDefaultsExcludeGuestSupervisor = Bool(root, "hostDefaultsExcludeGuestSupervisor") ?? parent.HostDefaultsExcludeGuestSupervisor,
                GuestState = Enum<GuestStateSource>(root, "guestState") ?? parent.GuestState,
                GuestPerm = Enum<GuestPermSource>(root, "guestPerm") ?? parent.GuestPerm,
                StatePermPreservesNonUser = Bool(root, "statePermPreservesNonUser") ?? parent.StatePermPreservesNonUser,
                FpuGuestHasPerm = Bool(root, "fpuGuestHasPerm") ?? parent.FpuGuestHasPerm,
                DeferredGuestSupervisor = Bool(root, "deferredGuestSupervisor") ?? parent.DeferredGuestSupervisor,
                WarnGuestOnlyInHostSave = Bool(root, "warnGuestOnlyInHostSave") ?? parent.WarnGuestOnlyInHostSave,
            };
            if ((v.GuestSupervisorMask & ~(v.SupervisorSupported & ~XFeatureMasks.Pasid & ~XFeatureMasks.CetUser)) != 0)
                throw new KernelVariantFileException(file, "guestSupervisorMask", $"0x{v.GuestSupervisorMask:x} is not within the supported guest-only candidates (CET_KERNEL 0x{XFeatureMasks.CetKernel:x}, and only with cetKernelSupported)");
            foreach (var p in root.EnumerateObject())
                if (p.Name is not ("name" or "parent" or "summary"))
                    changes.Add(new VariantDifference(p.Name, $"{p.Name} = {p.Value.GetRawText()}", $"variant file {Path.GetFileName(file)}", VariantEffect.Any));
            return v with { Differences = [.. parent.Differences, .. changes] };

            string? Str(JsonElement o, string field) => !o.TryGetProperty(field, out var e) ? null
                : e.ValueKind == JsonValueKind.String ? Bounded(e.GetString()!, field)
                : throw new KernelVariantFileException(file, field, $"a string is expected, not a JSON {Kind(e)}");

            bool? Bool(JsonElement o, string field) => !o.TryGetProperty(field, out var e) ? null
                : e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean()
                : throw new KernelVariantFileException(file, field, $"true or false is expected, not a JSON {Kind(e)}");

            ulong? Mask(JsonElement o, string field)
            {
                if (!o.TryGetProperty(field, out var e))
                    return null;
                if (e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out var n))
                    return n;
                if (e.ValueKind == JsonValueKind.String && e.GetString() is { } s && s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                    && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h) && s.Length > 2)
                    return h;
                throw new KernelVariantFileException(file, field, "a non-negative integer or a \"0x…\" hex string is expected");
            }

            T? Enum<T>(JsonElement o, string field) where T : struct, System.Enum
            {
                if (!o.TryGetProperty(field, out var e))
                    return null;
                var names = System.Enum.GetNames<T>().Select(n => char.ToLowerInvariant(n[0]) + n[1..]).ToArray();
                if (e.ValueKind == JsonValueKind.String && e.GetString() is { } s)
                {
                    int i = Array.IndexOf(names, s);
                    if (i >= 0)
                        return System.Enum.GetValues<T>()[i];
                }
                throw new KernelVariantFileException(file, field, $"one of {string.Join(", ", names.Select(n => $"\"{n}\""))} is expected");
            }

            string Bounded(string s, string? field = null) => s.Length <= 200 ? s
                : throw new KernelVariantFileException(file, field ?? "parent", $"{s.Length} characters; at most 200");
        }
    }

    private static string Quote(string name) => "'" + (name.Length > 40 ? name[..40] + "…" : name) + "'";

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();
}
