[assembly: InternalsVisibleTo("XsaveLab.Host.Tests")]
