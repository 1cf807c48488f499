namespace XsaveLab.Host.Tests.Cpu;

/// <summary>The live profile against Todd Allen's <c>cpuid -r -1</c> (when installed), read by our own reader.</summary>
public class HostCpuVsCpuidToolTests
{
    private static string? RunCpuidTool()
    {
        try
        {
            var psi = new ProcessStartInfo("cpuid", "-r -1") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p == null)
                return null;
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit(10_000);
            return p.HasExited && p.ExitCode == 0 ? text : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    [SkippableFact]
    public void LiveLeaves_EqualTheCpuidToolsRawOutput()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64, "needs Linux x86-64");
        var text = RunCpuidTool();
        Skip.If(text is null, "the 'cpuid' tool is not installed (Debian package cpuid)");
        var tool = CpuidTextReader.Parse(text!, "cpuid -r -1");
        Assert.True(HostCpu.TryRead(out var host, out var why), why);

        // Leaf 1 EBX[31:24] is the APIC id of whichever CPU answered; everything else is the same on every CPU.
        static CpuidLeaf Normalise(CpuidLeaf l) => l.Leaf == 1 ? l with { Ebx = l.Ebx & 0x00FFFFFF } : l;
        var relevant = tool.Leaves.Where(CpuidTextWriter.IsRelevant)
            .Where(l => l.Leaf != 0xD || l.Subleaf <= 1 || l.Eax != 0) // HostCpu, like the dumps, skips empty components
            .Select(Normalise).ToList();
        Assert.Equal(relevant, host!.Leaves.Select(Normalise).ToList());
    }
}
