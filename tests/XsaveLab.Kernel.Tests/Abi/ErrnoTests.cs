namespace XsaveLab.Kernel.Tests.Abi;

public class ErrnoTests
{
    private static readonly string[] Headers = ["/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h"];

    /// <summary>Every value of the one <see cref="Errno"/> agrees with the kernel's uapi headers on this machine.</summary>
    [SkippableFact]
    public void Every_errno_has_the_value_of_the_kernel_uapi_header()
    {
        Skip.IfNot(Headers.All(File.Exists), "the kernel uapi headers (linux-libc-dev) are not installed");
        var defined = new Dictionary<string, int>();
        foreach (var h in Headers)
            foreach (Match m in Regex.Matches(File.ReadAllText(h), @"#define\s+(E[A-Z0-9]+)\s+(\d+)"))
                defined[m.Groups[1].Value] = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        foreach (var e in Enum.GetValues<Errno>().Where(e => e != Errno.None))
        {
            Assert.True(defined.TryGetValue(e.ToString(), out var v), $"{e} is not in the uapi headers");
            Assert.Equal(v, (int)e);
        }
    }

    [Fact]
    public void Results_print_one_way()
    {
        foreach (var e in Enum.GetValues<Errno>().Where(e => e != Errno.None))
        {
            var r = SysResult.Fail(e, "rule");
            Assert.False(r.Ok);
            Assert.Equal(-(long)e, r.Value);
            Assert.Equal("-" + e, r.Text);
            Assert.Equal(r.Text, ErrnoNames.Result(r.Value));
            Assert.Equal($"-{e} (rule)", r.ToString());
            Assert.Equal(e, SysResult.FromReturn(-(long)e, "x").Errno);
            Assert.Equal(e, SysResult.FromLibc(-1, (int)e, "x").Errno);
        }
        Assert.True(SysResult.FromLibc(3, 0, "ioctl").Ok);
        Assert.Equal("3", SysResult.Success(3).Text);
        Assert.Equal("errno 200", ((Errno)200).Name());
        Assert.Equal("-300", ErrnoNames.Result(-300));
        Assert.Equal(Errno.None, ErrnoNames.Of(5));
    }
}
