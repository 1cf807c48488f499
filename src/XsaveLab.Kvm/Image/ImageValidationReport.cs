namespace XsaveLab.Kvm.Image;

/// <summary>The verdict on one image of a file: a raw image (<paramref name="Tid"/> null) or one thread's
/// NT_X86_XSTATE of a core.</summary>
public readonly record struct ThreadVerdict(int? Tid, ImageVerdict Verdict);

/// <summary>The verdicts on every image of a file (<see cref="ImageValidation.ValidateFile"/>).</summary>
/// <param name="Source">The file's name.</param>
/// <param name="Core">The file is an ELF core (one image per thread).</param>
/// <param name="Images">One verdict per image, in file order.</param>
public sealed record ImageValidationReport(string Source, bool Core, IReadOnlyList<ThreadVerdict> Images)
{
    /// <summary>Every image is accepted.</summary>
    public bool Accepted => Images.All(i => i.Verdict.Accepted);
}
