namespace XsaveLab.Host.Check;

/// <summary>How the model's value of an observable compares with this machine's.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ObservableStatus>))]
public enum ObservableStatus
{
    /// <summary>Model and kernel agree.</summary>
    [JsonStringEnumMemberName("match")]
    Match,

    /// <summary>They differ: a model error or an undocumented machine difference. Makes <c>host check</c> fail.</summary>
    [JsonStringEnumMemberName("mismatch")]
    Mismatch,

    /// <summary>They differ for a documented, understood reason of this machine (given in the reason).</summary>
    [JsonStringEnumMemberName("explained")]
    Explained,

    /// <summary>Not observed here (no permission, missing interface); the reason says why.</summary>
    [JsonStringEnumMemberName("skipped")]
    Skipped,
}

/// <summary>One compared fact: its name, the model's and the kernel's rendering, the verdict and why.</summary>
public sealed record Observable(string Name, string Model, string Actual, ObservableStatus Status, string Reason)
{
    public static Observable Compare(string name, string model, string actual, string reason = "") =>
        new(name, model, actual, model == actual ? ObservableStatus.Match : ObservableStatus.Mismatch, reason);

    public static Observable Compare<T>(string name, T model, T actual, Func<T, string> render, string reason = "") =>
        new(name, render(model), render(actual), EqualityComparer<T>.Default.Equals(model, actual) ? ObservableStatus.Match : ObservableStatus.Mismatch, reason);

    public static Observable Skipped(string name, string reason, string model = "") => new(name, model, "", ObservableStatus.Skipped, reason);
}

/// <summary>All observables of one <c>host check</c> run.</summary>
public sealed record HostCheckReport(IReadOnlyList<Observable> Observables)
{
    public bool HasMismatch => Observables.Any(o => o.Status == ObservableStatus.Mismatch);

    public int Count(ObservableStatus status) => Observables.Count(o => o.Status == status);

    /// <summary>The observables whose status is one of <paramref name="statuses"/>, in the order they were checked;
    /// all of them when <paramref name="statuses"/> is empty.</summary>
    public IReadOnlyList<Observable> Only(IReadOnlyCollection<ObservableStatus> statuses) =>
        statuses.Count == 0 ? Observables : [.. Observables.Where(o => statuses.Contains(o.Status))];
}
