namespace XsaveLab.Host.Tests.Kvm;

/// <summary>Tests that count this process's open file descriptors run alone: any other test opening
/// a file or spawning a child at the same time would change the count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FdCountCollection
{
    public const string Name = "open file descriptor counts";
}
