namespace XsaveLab.Host.Linux;

/// <summary>A live-host probe could not be carried out (child failed to start, stop or dump core).
/// The message says why; callers turn it into a "skipped" observation.</summary>
public sealed class HostProbeException(string message) : Exception(message);
