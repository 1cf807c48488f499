namespace XsaveLab.Arch.Catalog;

/// <summary>One built-in CPU: its short name, the dump it was derived from, a one-line description
/// and the profile itself.</summary>
public sealed record CatalogEntry(string Name, string Source, string Description, CpuProfile Profile);
