namespace XsaveLab.Host.Check;

/// <summary>The model's <c>x86/fpu:</c> boot lines against the kernel log, line by line.</summary>
public sealed class BootLogCheck : IHostCheckProvider
{
    public string Name => "boot log";

    public IEnumerable<Observable> Run(HostCheckContext ctx)
    {
        var model = ctx.System.Dmesg.Where(l => l.StartsWith(KernelLog.Prefix, StringComparison.Ordinal)).ToList();
        if (!KernelLog.TryReadFpuLines(out var actual, out string reason))
        {
            yield return Observable.Skipped("dmesg x86/fpu lines", reason, $"{model.Count} lines");
            yield break;
        }
        yield return Observable.Compare("dmesg x86/fpu line count", model.Count.ToString(), actual.Count.ToString());
        for (int i = 0; i < Math.Max(model.Count, actual.Count); i++)
            yield return Observable.Compare($"dmesg x86/fpu line {i + 1}", i < model.Count ? model[i] : "(none)", i < actual.Count ? actual[i] : "(none)");
    }
}
