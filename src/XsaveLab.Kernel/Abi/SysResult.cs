namespace XsaveLab.Kernel.Abi;

/// <summary>What a system call, ioctl or kernel function returned: a non-negative value or <c>-errno</c>, with the
/// rule (kernel function and check) that decided it. A value, never an exception, at the model boundary; the same
/// type carries live results, where the rule names the call that was made.</summary>
/// <param name="Value">The non-negative return value, or <c>-errno</c>.</param>
/// <param name="Errno">The error, <see cref="Errno.None"/> on success.</param>
/// <param name="Rule">The kernel function and check that decided (live: the call made).</param>
/// <param name="Offset">For a failure caused by the contents of a user buffer (an XSAVE image): the byte offset in
/// that buffer of the first byte that breaks <paramref name="Rule"/>; null otherwise.</param>
public readonly record struct SysResult(long Value, Errno Errno, string Rule = "", int? Offset = null)
{
    public bool Ok => Errno == Errno.None;

    public static SysResult Success(long value = 0, string rule = "") => new(value, Errno.None, rule);

    public static SysResult Fail(Errno e, string rule, int? offset = null) => new(-(long)e, e, rule, offset);

    /// <summary>A libc call's outcome: <paramref name="ret"/> when non-negative, else the <paramref name="errno"/> it
    /// left, with the call that was made as the rule.</summary>
    public static SysResult FromLibc(long ret, int errno, string call) => ret >= 0 ? Success(ret, call) : Fail((Errno)errno, call);

    /// <summary>A raw kernel-style return (<c>value</c> or <c>-errno</c>) with the rule that produced it.</summary>
    public static SysResult FromReturn(long ret, string rule) => ret >= 0 ? Success(ret, rule) : Fail(ErrnoNames.Of(ret), rule);

    /// <summary>The result as reports print it: the value, or <c>-ENAME</c>.</summary>
    public string Text => Ok ? Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-" + Errno.Name();

    public override string ToString() => Rule.Length > 0 ? $"{Text} ({Rule})" : Text;
}
