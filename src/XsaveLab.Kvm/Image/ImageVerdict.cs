namespace XsaveLab.Kvm.Image;

/// <summary>Whether a consumer accepts an XSAVE image, and if not, what refuses it.</summary>
/// <param name="Consumer">Who was asked.</param>
/// <param name="Cpu">The CPU profile's name.</param>
/// <param name="Kernel">The kernel variant's name.</param>
/// <param name="Length">The image's length in bytes.</param>
/// <param name="Accepted">The consumer loads the image.</param>
/// <param name="Outcome">What the caller sees: <c>loaded</c>, <c>#GP</c>/<c>#UD</c>/<c>#NM</c>, <c>-EINVAL</c>/<c>-EFAULT</c>,
/// <c>SIGSEGV</c>, or for a signal frame without valid extended-state markers <c>loaded as an FX-only frame</c>.</param>
/// <param name="Path">The code path that was followed (instruction and SDM section, or the kernel's call chain).</param>
/// <param name="Rule">The rule that decided, as the model states it (an SDM check or a kernel function and its
/// check); for an accepted image, how it was loaded.</param>
/// <param name="Offset">The byte of the image that breaks <paramref name="Rule"/>, when one is to blame.</param>
public sealed record ImageVerdict(ImageConsumer Consumer, string Cpu, string Kernel, int Length, bool Accepted, string Outcome,
    string Path, string Rule, int? Offset);
