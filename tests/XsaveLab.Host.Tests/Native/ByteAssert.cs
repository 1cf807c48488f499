namespace XsaveLab.Host.Tests.Native;

internal static class ByteAssert
{
    /// <summary>Fails with the differing byte ranges (offset, expected, actual) when the spans differ.</summary>
    public static void Equal(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        if (expected.SequenceEqual(actual))
            return;
        var sb = new StringBuilder($"{what}: bytes differ (expected length {expected.Length}, actual {actual.Length})");
        int n = Math.Min(expected.Length, actual.Length), shown = 0;
        for (int i = 0; i < n && shown < 12;)
        {
            if (expected[i] == actual[i])
            {
                i++;
                continue;
            }
            int start = i;
            while (i < n && expected[i] != actual[i])
                i++;
            int len = Math.Min(i - start, 16);
            sb.Append($"\n  [{start}..{i - 1}] expected {Convert.ToHexString(expected.Slice(start, len))} actual {Convert.ToHexString(actual.Slice(start, len))}");
            shown++;
        }
        throw new Xunit.Sdk.XunitException(sb.ToString());
    }
}
