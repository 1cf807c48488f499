namespace XsaveLab.Cli.Cli;

/// <summary>This machine cannot do what was asked (no native XSAVE timing, nothing that can be measured): the input
/// was fine, the measured thing is missing. <see cref="Program.Run(string[], TextWriter, TextWriter)"/> turns it into
/// one <c>error: …</c> line through <see cref="CliContext.Fail(string, int)"/> and exit code 1.</summary>
public sealed class NotAvailableException(string message) : Exception(message);
