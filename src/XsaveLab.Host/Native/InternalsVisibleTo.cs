using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("XsaveLab.Host.Tests")]
