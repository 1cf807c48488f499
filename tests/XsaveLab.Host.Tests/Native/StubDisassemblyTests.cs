namespace XsaveLab.Host.Tests.Native;

public class StubDisassemblyTests(ITestOutputHelper output)
{
    private static string? FindObjdump()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var p = Path.Combine(dir, "objdump");
            if (dir.Length > 0 && File.Exists(p))
                return p;
        }
        return null;
    }

    private static string[] Disassemble(string objdump, ReadOnlySpan<byte> code)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, code.ToArray());
            var psi = new ProcessStartInfo(objdump, ["-D", "-b", "binary", "-mi386:x86-64", file])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            // lines look like "   4:\t48 0f ae 27          \txsave64 (%rdi)"
            return text.Split('\n')
                .Select(l => l.Split('\t'))
                .Where(parts => parts.Length >= 3 && parts[0].TrimEnd().EndsWith(':'))
                .Select(parts => System.Text.RegularExpressions.Regex.Replace(parts[2].Trim(), @"\s+", " "))
                .ToArray();
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Mnemonic(string kind) => kind switch
    {
        "Xsave" => "xsave64",
        "Xsavec" => "xsavec64",
        "Xsaveopt" => "xsaveopt64",
        _ => throw new ArgumentException(kind),
    };

    /// <summary>The XSAVE-family instructions each stub must contain, in order: live save first, live
    /// restore last (then the optional exit capture).</summary>
    private static string[] ExpectedFamily(string name)
    {
        string[] parts = name.Split('-');
        string[] wrap(params string[] body) => ["xsave64 (%r10)", .. body, "xrstor64 (%r10)", "xsave64 (%r10)"];
        return parts switch
        {
            ["xgetbv"] => [],
            ["save", "live", var k] => [$"{Mnemonic(k)} (%rdi)"],
            ["probe", var k] => wrap("xrstor64 (%r10)", $"{Mnemonic(k)} (%r10)"),
            ["probe", var k, "then", var k2] => wrap("xrstor64 (%r10)", $"{Mnemonic(k)} (%r10)", "xrstor64 (%r10)", $"{Mnemonic(k2)} (%r10)"),
            ["xsaveopt", "twice"] => wrap("xrstor64 (%r10)", "xsaveopt64 (%r10)", "xsaveopt64 (%r10)"),
            ["pairs", var k] => wrap("xrstor64 (%r10)", $"{Mnemonic(k)} (%r10)", "xrstor64 (%r10)"),
            ["saves", var k] => wrap("xrstor64 (%r10)", $"{Mnemonic(k)} (%r10)"),
            ["restores"] => wrap("xrstor64 (%r10)"),
            _ => throw new ArgumentException(name),
        };
    }

    [SkippableFact]
    public void EveryStubDisassemblesAsIntended()
    {
        Skip.IfNot(NativeXsave.IsSupported, NativeXsave.UnsupportedReason);
        var objdump = FindObjdump();
        Skip.If(objdump is null, "objdump is not on PATH");
        using var x = new NativeXsave();
        foreach (var (name, _) in x.StubListing.OrderBy(kv => kv.Value))
        {
            var lines = Disassemble(objdump!, x.StubBytes(name));
            output.WriteLine($"== {name}");
            foreach (var l in lines)
                output.WriteLine("   " + l);
            Assert.DoesNotContain(lines, l => l.Contains("(bad)"));
            Assert.Equal("endbr64", lines[0]);
            Assert.Equal("ret", lines[^1]);
            var family = lines.Where(l => l.StartsWith("xsave") || l.StartsWith("xrstor")).ToArray();
            Assert.Equal(ExpectedFamily(name), family);
            // All loads/stores of the parameter block go through r11 and all areas through r10 (or rdi).
            Assert.All(family, l => Assert.True(l.EndsWith("(%r10)") || l.EndsWith("(%rdi)"), l));
        }
    }
}
