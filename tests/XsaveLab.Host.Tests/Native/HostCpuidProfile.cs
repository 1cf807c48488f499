namespace XsaveLab.Host.Tests.Native;

/// <summary>The <see cref="CpuProfile"/> of the processor running the tests (callers have already skipped
/// when <see cref="XsaveLab.Host.Native.NativeXsave.IsSupported"/> is false).</summary>
internal static class HostCpuidProfile
{
    public static CpuProfile Read() =>
        HostCpu.TryRead(out var profile, out var why) ? profile! : throw new InvalidOperationException(why);
}
