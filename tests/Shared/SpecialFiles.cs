namespace XsaveLab.Tests;

/// <summary>Special files for the input-reader tests, and reads that must not block.</summary>
internal static class SpecialFiles
{
    /// <summary>Makes a FIFO named <paramref name="name"/> in <paramref name="dir"/>; skips the test where
    /// mkfifo(1) is unavailable.</summary>
    public static string Fifo(string dir, string name)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs are made with mkfifo(1) on Linux");
        string fifo = Path.Combine(dir, name);
        using (var mk = System.Diagnostics.Process.Start("mkfifo", [fifo]))
            mk.WaitForExit();
        Skip.IfNot(File.Exists(fifo), "mkfifo did not create the FIFO");
        return fifo;
    }

    /// <summary>Runs <paramref name="read"/> on a worker thread, so that a reader that blocks fails the test
    /// (naming <paramref name="what"/>) instead of hanging it.</summary>
    public static T Within<T>(TimeSpan limit, string what, Func<T> read)
    {
        var run = Task.Factory.StartNew(read, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(run.Wait(limit), $"{what} still blocks after {limit.TotalSeconds} s");
        return run.Result;
    }
}
