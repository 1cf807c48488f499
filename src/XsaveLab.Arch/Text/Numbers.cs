namespace XsaveLab.Arch.Text;

/// <summary>The one number style of the text output: invariant digits, a comma between thousands from 10,000 up
/// (four-digit sizes and offsets stay as the kernel prints them), and large byte counts also in KiB or MiB. It lives
/// in the lowest layer because the libraries also write figures into sentences (KVM notes, experiment evidence,
/// sanity findings) that the command line prints as they are; the kernel's own log lines keep the kernel's
/// format and do not use it.</summary>
public static class Numbers
{
    /// <summary>An integer: <c>2560</c>, <c>11,008</c>, <c>2,600,960</c>.</summary>
    public static string Int(long v) =>
        v.ToString(Math.Abs(v) >= 10_000 ? "N0" : "0", CultureInfo.InvariantCulture);

    /// <summary>A non-integer figure rounded to <paramref name="decimals"/> places, grouped as <see cref="Int"/>.</summary>
    public static string Real(double v, int decimals) =>
        v.ToString((Math.Abs(v) >= 10_000 ? "#,0." : "0.") + new string('0', decimals), CultureInfo.InvariantCulture).TrimEnd('.');

    /// <summary>A byte count with its unit: <c>832 bytes</c>, <c>11,008 bytes (10.8 KiB)</c>,
    /// <c>2,600,960 bytes (2.48 MiB)</c>. The binary unit is added from 10 KiB up.</summary>
    public static string Bytes(long v) => Binary(v) is { } b ? $"{Int(v)} bytes ({b})" : $"{Int(v)} bytes";

    /// <summary>A byte count in KiB or MiB (three significant digits), or null below 10 KiB.</summary>
    public static string? Binary(long v) => Math.Abs(v) switch
    {
        < 10 * 1024 => null,
        < 1024 * 1024 => Significant(v / 1024.0) + " KiB",
        _ => Significant(v / (1024.0 * 1024)) + " MiB",
    };

    // Three significant digits below 100, whole units above, grouped from 10,000 like every other figure.
    private static string Significant(double x) =>
        Math.Abs(x) >= 100 ? Int((long)Math.Round(x)) : x.ToString(Math.Abs(x) >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
}
