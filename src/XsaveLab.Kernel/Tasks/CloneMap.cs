namespace XsaveLab.Kernel.Tasks;

/// <summary>The objects of one deep copy in progress, original to copy: an object reached twice (a task from its
/// group and from a CPU's <c>current</c>, an fpstate from a task and from a vCPU) is copied once, so the copy keeps
/// the original's sharing. Used by <see cref="LinuxKernel.Clone(CloneMap)"/> and by the layers above that copy
/// objects pointing into a kernel.</summary>
public sealed class CloneMap
{
    private readonly Dictionary<object, object> _map = new(ReferenceEqualityComparer.Instance);

    /// <summary>The copy of <paramref name="original"/>, made by <paramref name="copy"/> the first time it is asked
    /// for (null stays null). <paramref name="copy"/> must <see cref="Add"/> its result before copying what it points
    /// to, so that a cycle back to it finds it.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(original))]
    public T? Get<T>(T? original, Func<T, CloneMap, T> copy) where T : class
    {
        if (original is null)
            return null;
        return _map.TryGetValue(original, out var c) ? (T)c : copy(original, this);
    }

    /// <summary>The copy already made of <paramref name="original"/> (e.g. a task, after its kernel was copied).</summary>
    public T Copied<T>(T original) where T : class =>
        _map.TryGetValue(original, out var c) ? (T)c : throw new InvalidOperationException($"{original} was not copied");

    /// <summary>Records <paramref name="copy"/> as the copy of <paramref name="original"/>.</summary>
    public void Add<T>(T original, T copy) where T : class => _map.Add(original, copy);

    /// <summary>Forgets every pair (the map is reused for the next copy).</summary>
    public void Clear() => _map.Clear();
}
