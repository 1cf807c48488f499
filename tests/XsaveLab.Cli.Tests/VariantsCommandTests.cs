namespace XsaveLab.Cli.Tests;

/// <summary><c>variants</c>, and what <c>boot</c>, <c>kvm</c> and <c>report</c> say about a variant other than the
/// landed one: the cited differences whose effect shows in this CPU's results.</summary>
public sealed class VariantsCommandTests
{
    private static JsonElement Json(params string[] args)
    {
        var r = CliRunner.Run([.. args, "--format", "json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.Out).RootElement.Clone();
    }

    [Fact]
    public void Json_lists_every_variant_with_a_cited_change_from_another_variant()
    {
        var variants = Json("variants").GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.Equal(KernelVariants.All.Select(v => v.Name), variants.Keys);
        foreach (var v in KernelVariants.All)
        {
            var j = variants[v.Name];
            string neighbour = j.GetProperty("neighbour").GetString()!;
            Assert.NotEqual(v.Name, neighbour);
            var other = KernelVariants.Get(neighbour);
            var changes = j.GetProperty("changes").EnumerateArray().ToArray();
            Assert.True(changes.Length > 0, $"{v.Name}: no change from {neighbour}");
            foreach (var c in changes)
            {
                Assert.False(string.IsNullOrWhiteSpace(c.GetProperty("source").GetString()), $"{v.Name}: uncited change");
                // A change is one of the variant's own cited behaviours that the neighbour does not share.
                var d = v.Differences.Single(x => x.Aspect == c.GetProperty("aspect").GetString() && x.Behaviour == c.GetProperty("behaviour").GetString());
                Assert.DoesNotContain(d, other.Differences);
            }
        }
        Assert.True(variants[KernelVariants.DefaultName].GetProperty("landed").GetBoolean());
    }

    [Fact]
    public void A_variant_file_is_shown_against_its_parent_with_the_file_as_source()
    {
        string path = Path.Combine(Path.GetTempPath(), $"xsavelab-variant-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "name": "no-509e880b", "parent": "6.17", "guestState": "kernelDefaults" }""");
        try
        {
            var v = Assert.Single(Json("variants", "--kernel", path).GetProperty("variants").EnumerateArray());
            Assert.Equal("6.17", v.GetProperty("neighbour").GetString());
            var c = Assert.Single(v.GetProperty("changes").EnumerateArray());
            Assert.Contains(Path.GetFileName(path), c.GetProperty("source").GetString());

            // Its effect on a CET CPU: the guest fpstate loses CET_KERNEL, and the file's switch is named for it.
            var e = Json("boot", "--cpu", "spr", "--kernel", path).GetProperty("variantEffect");
            Assert.Contains(e.GetProperty("differences").EnumerateArray(), d => d.GetProperty("aspect").GetString() == "guestState");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>On CPUs with CET_S, the boot under v3, v4 or 6.15 differs from the landed boot, and the cited
    /// differences shown are the variant's own that the landed series does not share; every boot log line the
    /// comparison names is a line of the corresponding boot.</summary>
    [Theory]
    [InlineData("spr", "v3")]
    [InlineData("spr", "v4")]
    [InlineData("spr", "6.15")]
    [InlineData("zen5-turin", "v3")]
    [InlineData("zen5-turin", "6.15")]
    public void Boot_under_another_variant_names_the_cited_differences_it_shows(string cpu, string kernel)
    {
        Assert.True(CpuCatalog.Get(cpu).Has(CpuFeature.Shstk), $"{cpu} has no CET");
        var e = Json("boot", "--cpu", cpu, "--kernel", kernel).GetProperty("variantEffect");
        Assert.False(e.GetProperty("unchanged").GetBoolean());
        var diffs = e.GetProperty("differences").EnumerateArray().ToArray();
        Assert.NotEmpty(diffs);
        var variant = KernelVariants.Get(kernel);
        foreach (var d in diffs)
        {
            var cited = variant.Differences.Single(x => x.Aspect == d.GetProperty("aspect").GetString() && x.Behaviour == d.GetProperty("behaviour").GetString());
            Assert.DoesNotContain(cited, KernelVariants.Default.Differences);
            Assert.False(string.IsNullOrWhiteSpace(d.GetProperty("source").GetString()));
        }
        var chosenLog = Json("boot", "--cpu", cpu, "--kernel", kernel).GetProperty("dmesg").EnumerateArray().Select(x => x.GetString()).ToHashSet();
        var landedLog = Json("boot", "--cpu", cpu).GetProperty("dmesg").EnumerateArray().Select(x => x.GetString()).ToHashSet();
        foreach (var o in e.GetProperty("observed").EnumerateArray().Where(o => o.GetProperty("kind").GetString() == "BootLog"))
        {
            string chosen = o.GetProperty("chosen").GetString()!, landed = o.GetProperty("landed").GetString()!;
            Assert.True(chosen == "absent" || chosenLog.Contains(chosen), chosen);
            Assert.True(landed == "absent" || landedLog.Contains(landed), landed);
            Assert.False(chosenLog.Contains(landed) && landedLog.Contains(chosen), $"{chosen} / {landed} is in both logs");
        }
    }

    [Fact]
    public void The_landed_variant_prints_no_effect()
    {
        foreach (var args in new[] { new[] { "boot", "--cpu", "spr" }, ["kvm", "--cpu", "spr"], ["boot", "--cpu", "spr", "--kernel", KernelVariants.DefaultName] })
        {
            Assert.False(Json(args).TryGetProperty("variantEffect", out _), string.Join(' ', args));
            var text = CliRunner.Run(args).Out;
            Assert.DoesNotContain("compared with the landed", text);
        }
    }

    [Fact]
    public void A_variant_that_changes_nothing_on_this_cpu_says_so_in_one_line()
    {
        // Zen 2 has no CET: v4 differs from 6.17 only in component 12's name and a debug warning, neither of which shows.
        Assert.False(CpuCatalog.Get("zen2-matisse").Has(CpuFeature.Shstk));
        var e = Json("boot", "--cpu", "zen2-matisse", "--kernel", "v4").GetProperty("variantEffect");
        Assert.True(e.GetProperty("unchanged").GetBoolean());
        Assert.Empty(e.GetProperty("differences").EnumerateArray());
        var text = CliRunner.Run("boot", "--cpu", "zen2-matisse", "--kernel", "v4").Out;
        Assert.Single(text.Split('\n'), l => l.Contains("changes nothing", StringComparison.Ordinal));
    }

    [Fact]
    public void Kvm_and_report_show_the_effect_of_the_chosen_variant()
    {
        var k = Json("kvm", "--cpu", "spr", "--kernel", "6.15").GetProperty("variantEffect");
        Assert.NotEmpty(k.GetProperty("observed").EnumerateArray());
        Assert.Contains(k.GetProperty("differences").EnumerateArray(), d => d.GetProperty("source").GetString()!.StartsWith("d8414603b29f", StringComparison.Ordinal));

        var r = Json("report", "--cpu", "spr", "--kernel", "v3");
        Assert.NotEmpty(r.GetProperty("kernel").GetProperty("boot").GetProperty("variantEffect").GetProperty("differences").EnumerateArray());
        var text = CliRunner.Run("report", "--cpu", "spr", "--kernel", "v3").Out;
        Assert.Contains("What kernel v3 changes in this boot of spr", text);
    }
}
