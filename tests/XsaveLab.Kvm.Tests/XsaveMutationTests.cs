namespace XsaveLab.Kvm.Tests;

/// <summary>A script's change to an XSAVE image never writes past the image (it once threw IndexOutOfRange).</summary>
public class XsaveMutationTests
{
    [Theory]
    [InlineData("byte@4096=0x1", 4096)]
    [InlineData("byte@2147483647=0x1", 4096)]
    [InlineData("xstate_bv=0x3", 519)]
    [InlineData("xcomp_bv|=0x1", 527)]
    [InlineData("mxcsr=0x1f80", 27)]
    public void PastTheImage_IsRefused_AndLeavesItUntouched(string text, int length)
    {
        var m = XsaveMutation.Parse(text);
        Assert.NotNull(m);
        var img = new byte[length];
        Array.Fill(img, (byte)0xA5);
        Assert.False(m.Apply(img));
        Assert.All(img, b => Assert.Equal(0xA5, b));
    }

    [Theory]
    [InlineData("byte@4095=0x7", 4096, 4095, 1)]
    [InlineData("xstate_bv=0x3", 520, 512, 8)]
    [InlineData("mxcsr=0x1f80", 28, 24, 4)]
    public void AtTheEndOfTheImage_IsApplied(string text, int length, int offset, int width)
    {
        var m = XsaveMutation.Parse(text)!;
        Assert.Equal(width, m.Width);
        var img = new byte[length];
        Assert.True(m.Apply(img));
        Assert.NotEqual(0, img.AsSpan(offset, width).IndexOfAnyExcept((byte)0) + 1);
        Assert.Equal(-1, img.AsSpan(0, offset).IndexOfAnyExcept((byte)0));
    }
}
