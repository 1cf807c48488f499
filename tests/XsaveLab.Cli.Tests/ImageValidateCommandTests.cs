using System.Text.Json;

namespace XsaveLab.Cli.Tests;

/// <summary><c>image validate</c>: the verdict as an exit code, the rule and byte in text and JSON, and bad input as
/// one error line. The images are the kernel model's own ptrace images, then broken at a chosen byte.</summary>
public sealed class ImageValidateCommandTests : IDisposable
{
    private readonly ScratchDirectory _dir = new("xsavelab-validate-");

    public void Dispose() => _dir.Dispose();

    private string Save(byte[] bytes)
    {
        string path = Path.Combine(_dir.Path, "image.bin");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("ptrace")]
    [InlineData("xrstor")]
    public void A_valid_image_is_accepted_with_exit_0(string consumer)
    {
        var r = CliRunner.Run("image", "validate", Save(ImageCommandTests.PtraceImage("spr", 11)), "--for", consumer, "--cpu", "spr", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.True(doc.RootElement.GetProperty("accepted").GetBoolean());
        var image = doc.RootElement.GetProperty("images")[0];
        Assert.Equal(JsonValueKind.Null, image.GetProperty("offset").ValueKind);
        Assert.Equal(consumer, doc.RootElement.GetProperty("for").GetString());
    }

    /// <summary>XSTATE_BV bit 62 (no CPU enumerates it): ptrace refuses it in validate_user_xstate_header() and XRSTOR
    /// with #GP, both at the byte holding bit 62 (512 + 62/8).</summary>
    [Theory]
    [InlineData("ptrace", "-EINVAL", "validate_user_xstate_header")]
    [InlineData("xrstor", "#GP", "XSTATE_BV")]
    [InlineData("kvm", "-EINVAL", "fpu_copy_uabi_to_guest_fpstate")]
    public void A_broken_image_is_rejected_with_exit_1_naming_the_rule_and_byte(string consumer, string outcome, string rule)
    {
        var image = ImageCommandTests.PtraceImage("spr", 12);
        if (consumer == "kvm")
            Array.Resize(ref image, 4096);
        image[XsaveOffsets.XstateBv + 7] |= 0x40;
        var r = CliRunner.Run("image", "validate", Save(image), "--for", consumer, "--cpu", "spr", "--format", "json");
        Assert.True(r.ExitCode == 1, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        Assert.False(doc.RootElement.GetProperty("accepted").GetBoolean());
        var v = doc.RootElement.GetProperty("images")[0];
        Assert.Equal(outcome, v.GetProperty("outcome").GetString());
        Assert.Contains(rule, v.GetProperty("rule").GetString(), StringComparison.Ordinal);
        Assert.Equal($"0x{XsaveOffsets.XstateBv + 7:x}", v.GetProperty("offset").GetString());

        var text = CliRunner.Run("image", "validate", Save(image), "--for", consumer, "--cpu", "spr");
        Assert.Equal(1, text.ExitCode);
        Assert.Contains($"byte      0x{XsaveOffsets.XstateBv + 7:x}", text.Out, StringComparison.Ordinal);
        Assert.Contains("rejected", text.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_one_error_line_and_exit_2()
    {
        var r = CliRunner.Run("image", "validate", Path.Combine(_dir.Path, "absent.bin"), "--for", "ptrace", "--cpu", "spr");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("absent.bin", CliRunner.OneError(r), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_consumer_is_one_error_line_and_exit_2()
    {
        var r = CliRunner.Run("image", "validate", Save(ImageCommandTests.PtraceImage("spr", 13)), "--for", "fxrstor", "--cpu", "spr");
        Assert.Equal(2, r.ExitCode);
        CliRunner.OneError(r);
    }
}
