using System.Text;

namespace XsaveLab.Sim.Cost;

/// <summary>Writes a whole text file or nothing: the text goes to a temporary file next to the target, which is
/// renamed over it; on any failure the temporary file is removed and the target is left as it was.</summary>
internal static class AtomicFile
{
    public static void Write(string path, string text)
    {
        var tmp = path + ".tmp";
        try
        {
            File.WriteAllText(tmp, text, new UTF8Encoding(false));
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // nothing more to clean up
            throw;
        }
    }
}
