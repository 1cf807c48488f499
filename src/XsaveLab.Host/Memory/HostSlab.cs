using XsaveLab.Kernel.Memory;

namespace XsaveLab.Host.Memory;

/// <summary>This machine's SLUB inputs and the task_struct cache as /sys/kernel/slab shows it.</summary>
public static class HostSlab
{
    public const string TaskStructDir = "/sys/kernel/slab/task_struct";

    /// <summary>The settings <c>calculate_order()</c> read at boot: present and possible CPUs from
    /// /sys/devices/system/cpu, and <c>slub_min_order=</c>, <c>slub_max_order=</c>, <c>slub_min_objects=</c>
    /// (or their <c>slab_</c> spellings, 6.8+) from /proc/cmdline.</summary>
    public static SlubParams Params()
    {
        int present = CountCpus("/sys/devices/system/cpu/present"), possible = CountCpus("/sys/devices/system/cpu/possible");
        var p = new SlubParams(PresentCpus: present, NrCpuIds: Math.Max(1, possible));
        string cmdline = ReadText("/proc/cmdline") ?? "";
        foreach (var word in cmdline.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = word.Split('=', 2);
            if (kv.Length != 2 || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out int v))
                continue;
            p = kv[0] switch
            {
                "slub_min_order" or "slab_min_order" => p with { MinOrder = Math.Min(v, SlubRules.MaxPageOrder) },
                "slub_max_order" or "slab_max_order" => p with { MaxOrder = Math.Min(v, SlubRules.MaxPageOrder) },
                "slub_min_objects" or "slab_min_objects" => p with { MinObjects = Math.Min(v, SlubRules.MaxObjsPerPage) },
                _ => p,
            };
        }
        return p with { MaxOrder = Math.Max(p.MaxOrder, p.MinOrder) };
    }

    /// <summary>The cache's object_size, align, slab_size, order and objs_per_slab, or why they cannot be read.</summary>
    public static SlabGeometry? TaskStruct(out string reason)
    {
        reason = "";
        int?[] v = [.. new[] { "object_size", "align", "slab_size", "order", "objs_per_slab" }.Select(f => ReadInt(Path.Combine(TaskStructDir, f)))];
        if (v.Any(x => x is null))
        {
            reason = $"{TaskStructDir} is not readable (no SLUB sysfs, or no permission)";
            return null;
        }
        return new SlabGeometry(v[0]!.Value, v[1]!.Value, v[2]!.Value, v[3]!.Value, v[4]!.Value);
    }

    /// <summary>SLUB debugging on the cache (red zones, poisoning, owner tracking) adds metadata the model does not
    /// place; the reason, or null when none is on.</summary>
    public static string? DebugFlags()
    {
        var on = new[] { "red_zone", "poison", "store_user" }.Where(f => ReadInt(Path.Combine(TaskStructDir, f)) is > 0).ToList();
        return on.Count == 0 ? null : $"SLUB debugging is on for task_struct ({string.Join(", ", on)})";
    }

    // "0-1,4,6-7" → 5
    private static int CountCpus(string path)
    {
        string? text = ReadText(path)?.Trim();
        if (string.IsNullOrEmpty(text))
            return 1;
        int n = 0;
        foreach (var range in text.Split(','))
        {
            var ab = range.Split('-');
            if (!int.TryParse(ab[0], NumberStyles.None, CultureInfo.InvariantCulture, out int a))
                return 1;
            int b = a;
            if (ab.Length == 2 && !int.TryParse(ab[1], NumberStyles.None, CultureInfo.InvariantCulture, out b))
                return 1;
            n += Math.Max(0, b - a + 1);
        }
        return Math.Clamp(n, 1, 1 << 16);
    }

    private static int? ReadInt(string path) =>
        ReadText(path) is { } t && int.TryParse(t.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : null;

    private static string? ReadText(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read);
            var buf = new byte[4096];
            int n = s.Read(buf);
            return Encoding.ASCII.GetString(buf, 0, n);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
