using System.Text.RegularExpressions;
using XsaveLab.Tests;

namespace XsaveLab.Kernel.Tests.Variants;

/// <summary>Kernel designs as files: a file sets switches on a named parent; everything else is the parent's; a bad
/// file is one error naming the file and the field.</summary>
public partial class KernelVariantFileTests
{
    private const string Full = """
        {
          "name": "my-design",
          "parent": "6.17",
          "summary": "6.17 with guest fpstates sized from the host defaults",
          "cetKernelSupported": true,
          "cetKernelName": "Control-flow Kernel registers (KVM only)",
          "guestSupervisorMask": "0x1000",
          "hostDefaultsExcludeGuestSupervisor": true,
          "guestState": "kernelDefaults",
          "guestPerm": "guestDefaults",
          "statePermPreservesNonUser": true,
          "fpuGuestHasPerm": false,
          "deferredGuestSupervisor": false,
          "warnGuestOnlyInHostSave": false,
          "cetUserSupported": true,
          "xfeatureMax": 20,
          "xsaveLayoutNote": true,
          "fpuAppendedToTask": true,
          "slubOrder": "halfWaste"
        }
        """;

    /// <summary>The same design in YAML: plain, quoted and hex scalars, a comment.</summary>
    private const string FullYaml = """
        # 6.17 with guest fpstates sized from the host defaults
        name: my-design
        parent: "6.17"
        summary: 6.17 with guest fpstates sized from the host defaults
        cetKernelSupported: true
        cetKernelName: "Control-flow Kernel registers (KVM only)"
        guestSupervisorMask: 0x1000
        hostDefaultsExcludeGuestSupervisor: true
        guestState: kernelDefaults
        guestPerm: guestDefaults
        statePermPreservesNonUser: true
        fpuGuestHasPerm: false
        deferredGuestSupervisor: false
        warnGuestOnlyInHostSave: false
        cetUserSupported: true
        xfeatureMax: 20
        xsaveLayoutNote: true
        fpuAppendedToTask: true
        slubOrder: halfWaste
        """;

    [Fact]
    public void A_file_changes_only_the_switches_it_sets()
    {
        var v = KernelVariantFile.Parse("""{ "name": "no-509e880b", "parent": "6.17", "guestState": "kernelDefaults" }""", "d.json");
        var parent = KernelVariants.V6_17;
        Assert.Equal("no-509e880b", v.Name);
        Assert.Equal(GuestStateSource.KernelDefaults, v.GuestState);
        Assert.Equal(parent with { Name = v.Name, Summary = v.Summary, GuestState = v.GuestState, Differences = v.Differences, Neighbour = new("6.17", "the parent the file changes") }, v);
        Assert.Equal(parent.Differences.Count + 1, v.Differences.Count);
        Assert.Contains(v.Differences, d => d.Aspect == "guestState" && d.Source.Contains("d.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_field_of_the_format_is_read()
    {
        var v = KernelVariantFile.Parse(Full, "full.json");
        Assert.Equal(GuestStateSource.KernelDefaults, v.GuestState);
        Assert.Equal(XFeatureMasks.CetKernel, v.GuestSupervisorMask);
        Assert.Equal(KernelVariantFile.Fields.Count, Regex.Matches(Full, "\"[a-zA-Z]+\":").Count);
        // A booted file variant behaves as the switches say: the guest fpstate has no CET_KERNEL slot.
        var sys = FpuSystem.Boot(TestEnv.CatalogCpu("spr"), v);
        var k = new LinuxKernel(sys, 1);
        var t = k.SpawnProcess("vmm");
        k.Schedule(0, t);
        Assert.Equal(0UL, k.FpuAllocGuestFpstate(t).FpState!.Xfeatures & XFeatureMasks.CetKernel);
    }

    [Fact]
    public void A_yaml_file_reads_to_the_same_variant_as_its_json_twin()
    {
        var json = KernelVariantFile.Parse(Full, "full.json");
        var yaml = KernelVariantFile.Parse(FullYaml, "full.yaml");
        Assert.Equal(json with { Differences = [] }, yaml with { Differences = [] });
        Assert.Equal(json.Differences.Select(d => d.Aspect), yaml.Differences.Select(d => d.Aspect));
        Assert.Equal(KernelVariantFile.Fields.Count, Regex.Matches(FullYaml, "^[a-zA-Z]+:", RegexOptions.Multiline).Count);
        // Without an extension the text decides: a leading brace is JSON, anything else YAML.
        Assert.Equal(yaml with { Differences = [], Summary = "" }, KernelVariantFile.Parse(FullYaml, "design") with { Differences = [], Summary = "" });
        Assert.Equal(json.GuestState, KernelVariantFile.Parse(Full, "design").GuestState);
    }

    /// <summary>Switches only the built-in variants set otherwise: a 6.17 design with the 6.6 SLUB rules, no layout
    /// note and struct fpu inside task_struct; a 6.16 design without CET_U.</summary>
    [Fact]
    public void A_file_sets_the_memory_and_core_note_switches()
    {
        var v = KernelVariantFile.Parse("""
            name: old-memory
            parent: "6.17"
            fpuAppendedToTask: false
            slubOrder: minObjectsLoop
            xsaveLayoutNote: false
            """, "m.yml");
        Assert.False(v.FpuAppendedToTask);
        Assert.Equal(XsaveLab.Kernel.Memory.SlubOrderRules.MinObjectsLoop, v.SlubOrder);
        Assert.False(v.WritesXsaveLayoutNote);
        var spr = TestEnv.CatalogCpu("spr");
        Assert.Null(XsaveLayoutNote.Create(UabiConfig.FromSystem(FpuSystem.Boot(spr, v))));
        Assert.NotNull(XsaveLayoutNote.Create(UabiConfig.FromSystem(FpuSystem.Boot(spr, KernelVariants.V6_17))));
        var noCet = KernelVariantFile.Parse("""{ "name": "no-cet", "parent": "6.16", "cetUserSupported": false, "xfeatureMax": 19 }""", "c.json");
        Assert.Equal(XFeatureMasks.Pasid, noCet.SupervisorSupported);
        Assert.Equal(19, noCet.XFeatureMax);
    }

    [Theory]
    [InlineData("[]", "bad.json: line 1: ", "one JSON object")]
    [InlineData("{", "bad.json: line 1: ", "not JSON at byte")]
    [InlineData("""{ "parent": "6.17" }""", "bad.json: field name: ", "missing")]
    [InlineData("""{ "name": "x" }""", "bad.json: field parent: ", "missing")]
    [InlineData("""{ "name": "6.17", "parent": "6.17" }""", "bad.json: line 1: field name: ", "built-in")]
    [InlineData("""{ "name": "x", "parent": "7.0" }""", "bad.json: line 1: field parent: ", "unknown variant")]
    [InlineData("""{ "name": "x", "parent": "6.17", "guestPerm": "copy" }""", "bad.json: line 1: field guestPerm: ", "\"copyOfPerm\"")]
    [InlineData("""{ "name": "x", "parent": "6.17", "fpuGuestHasPerm": 1 }""", "bad.json: line 1: field fpuGuestHasPerm: ", "true or false")]
    [InlineData("""{ "name": "x", "parent": "6.17", "guestSupervisorMask": "0x800" }""", "bad.json: line 1: field guestSupervisorMask: ", "not within")]
    [InlineData("""{ "name": "x", "parent": "6.16", "guestSupervisorMask": 4096 }""", "bad.json: line 1: field guestSupervisorMask: ", "not within")]
    [InlineData("""{ "name": "x", "parent": "6.17", "guestSupervisorMask": "12" }""", "bad.json: line 1: field guestSupervisorMask: ", "hex string")]
    [InlineData("""{ "name": "x", "parent": "6.17", "bogus": 1 }""", "bad.json: line 1: field 'bogus': ", "unknown")]
    [InlineData("""{ "name": "x", "parent": "6.17", "summary": 5 }""", "bad.json: line 1: field summary: ", "a string")]
    [InlineData("""{ "name": "x", "name": "y", "parent": "6.17" }""", "bad.json: line 1: field name: ", "given twice")]
    [InlineData("{ \"name\": \"x\",\n  \"parent\": \"6.17\",\n  \"slubOrder\": \"half\" }", "bad.json: line 3: field slubOrder: ", "\"halfWaste\"")]
    [InlineData("""{ "name": "x", "parent": "6.17", "cetUserSupported": false }""", "bad.json: line 1: field cetUserSupported: ", "next to component 11")]
    [InlineData("""{ "name": "x", "parent": "6.17", "xfeatureMax": 64 }""", "bad.json: line 1: field xfeatureMax: ", "is expected")]
    public void Errors_name_the_file_the_line_and_the_field(string text, string prefix, string problem)
    {
        var e = Assert.Throws<KernelVariantFileException>(() => KernelVariantFile.Parse(text, "bad.json"));
        Assert.StartsWith(prefix, e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>YAML goes through the same validation with the same messages; the line is the field's.</summary>
    [Theory]
    [InlineData("- a\n- b", "bad.yaml: line 1: ", "a YAML sequence; a variant file is one YAML mapping")]
    [InlineData("", "bad.yaml: line 1: ", "empty")]
    [InlineData("name: x\nparent: [6.17]", "bad.yaml: line 2: field parent: ", "a string is expected, not a YAML sequence")]
    [InlineData("name: x\nparent: \"6.17\"\nfpuGuestHasPerm: yes", "bad.yaml: line 3: field fpuGuestHasPerm: ", "true or false is expected, not a YAML string")]
    [InlineData("name: x\nparent: \"6.17\"\nguestSupervisorMask: 0x800", "bad.yaml: line 3: field guestSupervisorMask: ", "not within")]
    [InlineData("name: x\nparent: \"6.17\"\n\nbogus: 1", "bad.yaml: line 4: field 'bogus': ", "unknown")]
    [InlineData("name: x\nparent: \"6.17\"\nname: y", "bad.yaml: line 3: field name: ", "given twice (first on line 1)")]
    [InlineData("parent: \"6.17\"", "bad.yaml: field name: ", "missing")]
    [InlineData("name: x\nparent: &p \"6.17\"\nsummary: *p", "bad.yaml: line 3: ", "aliases are not part of the format")]
    [InlineData("name: x\nparent: !!str 6.17", "bad.yaml: line 2: ", "tags are not part of the format")]
    [InlineData("name: x\nparent: \"6.17\"\n---\nname: y", "bad.yaml: line 3: ", "a second YAML document")]
    [InlineData("name: x\n  parent: 6.17\n: :", "bad.yaml: line ", "not YAML at column")]
    public void Yaml_errors_name_the_file_the_line_and_the_field(string text, string prefix, string problem)
    {
        var e = Assert.Throws<KernelVariantFileException>(() => KernelVariantFile.Parse(text, "bad.yaml"));
        Assert.StartsWith(prefix, e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_file_is_an_error_naming_it()
    {
        var e = Assert.Throws<KernelVariantFileException>(() => KernelVariantFile.Read("/nonexistent/design.json"));
        Assert.StartsWith("/nonexistent/design.json: ", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Seeded mutations of a full file: a variant, or one <c>FILE: …</c> line; nothing else.</summary>
    [Fact]
    public void Mutated_files_parse_to_a_variant_or_one_error_line()
    {
        int ok = 0, rejected = 0;
        Fuzz.Run("kernel variant file", Fuzz.Seed(0x7A41), Fuzz.Iterations(2000), rng => Fuzz.MutateLines(rng, Full), text =>
        {
            try
            {
                var v = KernelVariantFile.Parse(text, "fuzz.json");
                FpuSystem.Boot(TestEnv.CatalogCpu("spr"), v);
                ok++;
            }
            catch (KernelVariantFileException e)
            {
                if (!e.Message.StartsWith("fuzz.json: ", StringComparison.Ordinal) || e.Message.Contains('\n', StringComparison.Ordinal) || e.Message.Length > 2000)
                    throw new InvalidOperationException($"bad error line: {e.Message}");
                rejected++;
            }
        });
        Assert.True(ok > 0 && rejected > 0, $"{ok} accepted, {rejected} rejected: the mutations should reach both paths");
    }

    /// <summary>The YAML reader under the same seeded mutations, plus YAML's own hazards spliced in (anchors and
    /// aliases, tags, flow collections, deep nesting, documents, block scalars): a variant or one error line, within
    /// the fuzz time and memory bounds.</summary>
    [Fact]
    public void Mutated_yaml_files_parse_to_a_variant_or_one_error_line()
    {
        string[] hazards =
        [
            "&a ", "*a", "!!str ", "!custom ", "{ a: [1, {b: 2}] }", new string('[', 300), new string('{', 300) + "a", "---", "...", "|\n  text",
            ">-\n  folded", "? complex\n: key", "%YAML 1.2", "\t", "\"\\x00\"", "'quoted ''x'''", "- item", ": ", " #", "\ufeff", "0x", "0x1000",
            "~", "null", ".inf", "TRUE", "No",
        ];
        int ok = 0, rejected = 0;
        Fuzz.Run("kernel variant file (YAML)", Fuzz.Seed(0x7A42), Fuzz.Iterations(2000), rng =>
        {
            string text = Fuzz.MutateLines(rng, FullYaml);
            var lines = text.Split('\n').ToList();
            for (int k = rng.Next(3); k > 0 && lines.Count > 0; k--)
            {
                int at = rng.Next(lines.Count);
                lines[at] = lines[at].Insert(rng.Next(lines[at].Length + 1), hazards[rng.Next(hazards.Length)]);
            }
            return string.Join('\n', lines);
        }, text =>
        {
            try
            {
                var v = KernelVariantFile.Parse(text, "fuzz.yaml");
                FpuSystem.Boot(TestEnv.CatalogCpu("spr"), v);
                ok++;
            }
            catch (KernelVariantFileException e)
            {
                if (!e.Message.StartsWith("fuzz.yaml: ", StringComparison.Ordinal) || e.Message.Contains('\n', StringComparison.Ordinal) || e.Message.Length > 2000)
                    throw new InvalidOperationException($"bad error line: {e.Message}");
                rejected++;
            }
        });
        Assert.True(ok > 0 && rejected > 0, $"{ok} accepted, {rejected} rejected: the mutations should reach both paths");
    }
}
