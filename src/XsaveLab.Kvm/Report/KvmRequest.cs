namespace XsaveLab.Kvm.Report;

/// <summary>A VMM sequence named by the user that cannot run: neither built-in nor a file, or a built-in sequence
/// whose needs (e.g. AMX) the CPU does not meet.</summary>
public sealed class KvmRequestException(string message) : Exception(message);

/// <summary>The <c>kvm</c> question in one call: a built-in sequence or a script file, checked, run and reported.</summary>
public static class KvmRequest
{
    /// <summary>Runs <paramref name="vmm"/> (a name in <see cref="BuiltinScripts.All"/> or a script file) under
    /// <paramref name="settings"/>; <paramref name="notes"/> go first in the report's notes.</summary>
    /// <exception cref="KvmRequestException">Unknown sequence, a CPU past the model's size bounds, or a built-in one whose needs the CPU does not meet.</exception>
    /// <exception cref="VmmScriptException">The script file does not parse.</exception>
    public static KvmReport Run(string vmm, KvmSettings settings, IReadOnlyList<string> notes)
    {
        bool builtin = BuiltinScripts.All.ContainsKey(vmm);
        if (!builtin && !File.Exists(vmm))
            throw new KvmRequestException($"--vmm: '{ScriptText.Excerpt(vmm, 200)}' is neither a built-in sequence ({string.Join(", ", BuiltinScripts.All.Keys)}) nor a file");
        var script = builtin ? BuiltinScripts.Get(vmm) : VmmScript.ParseFile(vmm);
        // Sizes from an untrusted dump are bounded before the model allocates a guest buffer from them.
        if (Caps.KvmLimits.Problem(settings.Cpu) is { } bound)
            throw new KvmRequestException($"--cpu {settings.Cpu.Name}: {bound}");
        if (BuiltinScripts.Unmet(vmm, new Vm.KvmSystem(settings)) is { } unmet)
            throw new KvmRequestException($"--vmm: {unmet}; this CPU is {settings.Cpu.Name}");
        var report = KvmReport.Create(script, settings, vmm);
        if (builtin && BuiltinScripts.Headline(vmm) is { } headline)
            report = report with { Pitfall = headline, Outcome = KvmReport.PitfallOutcome(report) };
        if (settings.Kernel.Name != KernelVariants.DefaultName)
            report = report with { Effect = VariantEffectOnCpu.From(settings.Kernel, KvmReport.Observe(report, Landed(script, settings, vmm))) };
        return notes.Count == 0 ? report : report with { Notes = [.. notes, .. report.Notes] };
    }

    /// <summary>The text of built-in sequence <paramref name="vmm"/> as a script file to start from.</summary>
    /// <exception cref="KvmRequestException"><paramref name="vmm"/> is not a built-in sequence.</exception>
    public static string Template(string vmm) => BuiltinScripts.All.ContainsKey(vmm)
        ? BuiltinScripts.Template(vmm)
        : throw new KvmRequestException($"--print: '{ScriptText.Excerpt(vmm, 200)}' is not a built-in sequence ({string.Join(", ", BuiltinScripts.All.Keys)})");

    /// <summary>The same sequence under the landed kernel (a script whose <c>kernel</c> line names one runs under that
    /// one both times, so nothing differs).</summary>
    private static KvmReport Landed(VmmScript script, KvmSettings settings, string vmm) =>
        KvmReport.Create(script, settings with { Kernel = KernelVariants.Default }, vmm);
}
