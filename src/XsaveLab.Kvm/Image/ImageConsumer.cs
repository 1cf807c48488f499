namespace XsaveLab.Kvm.Image;

/// <summary>Who is handed an XSAVE image and may refuse it.</summary>
public enum ImageConsumer
{
    /// <summary>XRSTOR in a user process (CPL 3, XCR0 and IA32_XFD as the kernel programs them), RFBM = all ones.</summary>
    Xrstor,

    /// <summary>XRSTORS in the kernel (CPL 0, XCR0 | IA32_XSS as the kernel programs them), RFBM = all ones.</summary>
    Xrstors,

    /// <summary>rt_sigreturn of a 64-bit frame whose fpstate (buf_fx) is the image, MAGIC2 included.</summary>
    Sigreturn,

    /// <summary>PTRACE_SETREGSET of NT_X86_XSTATE with iov_len = the image's length.</summary>
    Ptrace,

    /// <summary>KVM_SET_XSAVE on a fresh vCPU of a VMM without extra guest permissions.</summary>
    Kvm,
}

/// <summary>The names of <see cref="ImageConsumer"/> on the command line and in JSON.</summary>
public static class ImageConsumers
{
    public static IReadOnlyList<ImageConsumer> All { get; } = Enum.GetValues<ImageConsumer>();

    public static string Name(ImageConsumer consumer) => consumer.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out ImageConsumer consumer)
    {
        foreach (var c in All)
            if (string.Equals(Name(c), text, StringComparison.OrdinalIgnoreCase))
            {
                consumer = c;
                return true;
            }
        consumer = default;
        return false;
    }
}
