namespace XsaveLab.Host.Linux;

/// <summary>What the kernel's FPU core printed at boot (<c>x86/fpu:</c> lines of the kernel log).</summary>
/// <param name="Lines">The lines, each starting at <c>x86/fpu:</c> (timestamps and log prefixes removed).</param>
/// <param name="Offsets">Component number → (offset, size) from <c>xstate_offset[i]: …, xstate_sizes[i]: …</c>
/// (printed by <c>print_xstate_offset_size()</c> in arch/x86/kernel/fpu/xstate.c; compacted offsets when the
/// kernel uses the compacted format).</param>
/// <param name="EnabledFeatures">From <c>Enabled xstate features 0x…</c> (<c>fpu_kernel_cfg.max_features</c>), or null.</param>
/// <param name="ContextSize">From <c>context size is N bytes</c> (<c>fpu_kernel_cfg.max_size</c>), or null.</param>
/// <param name="Format">"compacted" or "standard", or null.</param>
public sealed partial record KernelFpuLog(
    IReadOnlyList<string> Lines,
    IReadOnlyDictionary<int, (int Offset, int Size)> Offsets,
    ulong? EnabledFeatures,
    int? ContextSize,
    string? Format)
{
    [GeneratedRegex(@"xstate_offset\[(\d+)\]:\s*(\d+),\s*xstate_sizes\[\d+\]:\s*(\d+)")]
    private static partial Regex OffsetLine();

    [GeneratedRegex(@"Enabled xstate features 0x([0-9a-fA-F]+), context size is (\d+) bytes, using '(\w+)' format")]
    private static partial Regex EnabledLine();

    /// <summary>Parses <c>x86/fpu:</c> lines (other lines are ignored).</summary>
    public static KernelFpuLog Parse(IEnumerable<string> lines)
    {
        var kept = new List<string>();
        var offsets = new Dictionary<int, (int, int)>();
        ulong? enabled = null;
        int? size = null;
        string? format = null;
        foreach (var raw in lines)
        {
            int at = raw.IndexOf(KernelLog.Prefix, StringComparison.Ordinal);
            if (at < 0)
                continue;
            var line = raw[at..].TrimEnd();
            kept.Add(line);
            if (OffsetLine().Match(line) is { Success: true } m)
                offsets[Int(m.Groups[1].Value)] = (Int(m.Groups[2].Value), Int(m.Groups[3].Value));
            else if (EnabledLine().Match(line) is { Success: true } e)
            {
                enabled = ulong.Parse(e.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                size = Int(e.Groups[2].Value);
                format = e.Groups[3].Value;
            }
        }
        return new KernelFpuLog(kept, offsets, enabled, size, format);
    }

    private static int Int(string s) => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);
}

/// <summary>Where <see cref="KernelLog"/> reads from.</summary>
public enum KernelLogSource
{
    /// <summary><c>dmesg</c>, then <c>/dev/kmsg</c>.</summary>
    Any,
    Dmesg,
    Kmsg,
}

/// <summary>Reads the kernel log of this machine: <c>dmesg</c> first, then <c>/dev/kmsg</c> without blocking.</summary>
/// <remarks>Boot messages can be unreadable (dmesg_restrict, no privileges, rotated ring buffer); callers get a
/// reason, never an exception.</remarks>
public static partial class KernelLog
{
    public const string Prefix = "x86/fpu:";

    /// <summary>The <c>x86/fpu:</c> boot lines, without timestamps, from <paramref name="source"/>.</summary>
    public static bool TryReadFpuLines(out IReadOnlyList<string> lines, out string reason, KernelLogSource source = KernelLogSource.Any)
    {
        lines = [];
        if (!OperatingSystem.IsLinux())
        {
            reason = "the kernel log is only read on Linux";
            return false;
        }
        string whyDmesg = "not tried", whyKmsg = "not tried";
        List<string> all = [];
        if ((source != KernelLogSource.Kmsg && TryDmesg(out all, out whyDmesg))
            || (source != KernelLogSource.Dmesg && TryKmsg(out all, out whyKmsg)))
        {
            var fpu = KernelFpuLog.Parse(all).Lines;
            if (fpu.Count > 0)
            {
                lines = fpu;
                reason = "";
                return true;
            }
            reason = "the kernel log has no 'x86/fpu:' lines (boot messages may have been overwritten)";
            return false;
        }
        reason = $"the kernel log is unreadable (dmesg: {whyDmesg}; /dev/kmsg: {whyKmsg})";
        return false;
    }

    /// <summary>The parsed FPU boot log.</summary>
    public static bool TryRead([NotNullWhen(true)] out KernelFpuLog? log, out string reason)
    {
        log = null;
        if (!TryReadFpuLines(out var lines, out reason))
            return false;
        log = KernelFpuLog.Parse(lines);
        return true;
    }

    private static bool TryDmesg(out List<string> lines, out string reason)
    {
        lines = [];
        try
        {
            var psi = new ProcessStartInfo("dmesg")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.Environment["LC_ALL"] = "C";
            using var p = Process.Start(psi);
            if (p == null)
            {
                reason = "could not start";
                return false;
            }
            var errTask = p.StandardError.ReadToEndAsync();
            string text = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(10_000))
            {
                p.Kill();
                reason = "timed out";
                return false;
            }
            if (p.ExitCode != 0)
            {
                reason = $"exit code {p.ExitCode}: {errTask.Result.Trim()}";
                return false;
            }
            lines = [.. text.Split('\n')];
            reason = "";
            return true;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <summary>/dev/kmsg returns one record per read(2), e.g. <c>6,123,250039,-;x86/fpu: …</c>, and blocks
    /// at the end of the buffer unless opened with O_NONBLOCK (then EAGAIN), which FileStream cannot ask for;
    /// hence open/read from libc.</summary>
    private static unsafe bool TryKmsg(out List<string> lines, out string reason)
    {
        lines = [];
        using var fd = Libc.open("/dev/kmsg", Libc.ORdonly | Libc.ONonblock);
        if (fd.IsInvalid)
        {
            reason = $"open failed, errno {Marshal.GetLastPInvokeError()}";
            return false;
        }
        {
            var buf = new byte[8192];
            fixed (byte* p = buf)
            {
                // Bounded: the ring buffer holds a finite number of records; EAGAIN ends the loop.
                for (int n = 0; n < 1_000_000; n++)
                {
                    nint got = Libc.read(fd, p, (nuint)buf.Length);
                    if (got < 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        if (errno == Epipe)
                            continue; // records were overwritten while reading; the next read resumes
                        break; // EAGAIN: no more records
                    }
                    if (got == 0)
                        break;
                    var rec = Encoding.UTF8.GetString(buf, 0, (int)got);
                    int semi = rec.IndexOf(';');
                    int nl = rec.IndexOf('\n');
                    lines.Add(semi < 0 ? rec : rec[(semi + 1)..(nl > semi ? nl : rec.Length)]);
                }
            }
        }
        reason = "";
        return true;
    }

    private const int Epipe = 32;
}
