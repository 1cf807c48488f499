namespace XsaveLab.Cli.Cli;

/// <summary>Source-generated metadata for every JSON document the CLI writes. <see cref="Json.Options"/> carries
/// the naming, escaping and hex rules; this context only supplies the type shapes.</summary>
[JsonSerializable(typeof(LayoutJson))]
[JsonSerializable(typeof(List<CpuJson>))]
[JsonSerializable(typeof(BootJson))]
[JsonSerializable(typeof(KvmJson))]
[JsonSerializable(typeof(HostCheckJson))]
[JsonSerializable(typeof(CompatJson))]
[JsonSerializable(typeof(CompatTemplateJson))]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(ProfileJson))]
[JsonSerializable(typeof(IReadOnlyList<ProfileFinding>))]
[JsonSerializable(typeof(List<ProfileFinding>))]
[JsonSerializable(typeof(ProfileFinding[]))]
[JsonSerializable(typeof(KernelJson))]
[JsonSerializable(typeof(UserAbiJson))]
[JsonSerializable(typeof(KvmVariantJson[]))]
[JsonSerializable(typeof(CetSResult))]
[JsonSerializable(typeof(CalibrateJson))]
[JsonSerializable(typeof(MeasureJson))]
[JsonSerializable(typeof(BenchSimJson))]
[JsonSerializable(typeof(SectionUnavailable))]
[JsonSerializable(typeof(ImageDecodeJson))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
