namespace XsaveLab.Cli.Cli;

/// <summary>Bad input from the user (unknown CPU, malformed mask, …). <see cref="Program.Run(string[], TextWriter, TextWriter)"/> turns it into
/// one <c>error: …</c> line and exit code 2; nothing has been written to stdout at that point.</summary>
public sealed class UserErrorException(string message) : Exception(message);
