// The P/Invoke declarations stay internal: only the live layers above call libc directly.
[assembly: InternalsVisibleTo("XsaveLab.Host")]
[assembly: InternalsVisibleTo("XsaveLab.Sim")]
[assembly: InternalsVisibleTo("XsaveLab.Host.Tests")]
