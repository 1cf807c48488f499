using System.Collections;
using System.Reflection;
using XsaveLab.Kernel.Boot;
using XsaveLab.Kernel.Uabi;
using XsaveLab.Kvm.Guest;

namespace XsaveLab.Kvm.Tests;

/// <summary>Walks an object graph and its deep copy side by side, field by field (private fields included), and lists
/// every place where (a) a value differs, (b) a mutable object is the same instance in both, or (c) the copy's sharing
/// differs from the original's (one object copied twice, or two objects merged). Each entry names the field path.</summary>
internal static class ObjectGraphComparison
{
    /// <summary>Types read-only once built (boot results, settings, immutable records): the copy shares them.</summary>
    private static readonly HashSet<Type> SharedTypes =
    [
        typeof(CpuProfile), typeof(XsaveCpuOptions), typeof(FpuSystem), typeof(HostFpuConfig), typeof(KvmCaps),
        typeof(KernelVariant), typeof(KvmSettings), typeof(UabiConfig),
        typeof(XsaveCpu).Assembly.GetType("XsaveLab.Arch.Machine.RegisterLayout", throwOnError: true)!,
    ];

    /// <summary>Immutable records a copy shares, and that each side creates on its own when it runs on: equal
    /// when the same instance or equal field by field.</summary>
    private static readonly HashSet<Type> Records = [typeof(KvmStep), typeof(VcpuSnapshot)];

    /// <summary>Fields holding arrays filled once in a constructor and only read afterwards.</summary>
    private static readonly HashSet<string> SharedFields = ["FpuSwitchPolicy._size"];

    public static List<string> Compare(object original, object copy)
    {
        var problems = new List<string>();
        Walk(original, copy, original.GetType().Name, new Dictionary<object, object>(ReferenceEqualityComparer.Instance),
            new Dictionary<object, object>(ReferenceEqualityComparer.Instance), problems);
        return problems;
    }

    private static void Walk(object? a, object? b, string path, Dictionary<object, object> forward, Dictionary<object, object> backward, List<string> problems)
    {
        if (a is null || b is null)
        {
            if (a is not null || b is not null)
                problems.Add($"{path}: {Show(a)} in the original, {Show(b)} in the copy");
            return;
        }
        var type = a.GetType();
        if (type != b.GetType())
        {
            problems.Add($"{path}: type {type.Name} in the original, {b.GetType().Name} in the copy");
            return;
        }
        if (type.IsPrimitive || type.IsEnum || a is string or decimal)
        {
            if (!a.Equals(b))
                problems.Add($"{path}: {Show(a)} in the original, {Show(b)} in the copy");
            return;
        }
        if (type.IsValueType)
        {
            Fields(a, b, type, path, forward, backward, problems);
            return;
        }
        if (SharedTypes.Contains(type) || a is Delegate || a is Array { Length: 0 })
        {
            if (!ReferenceEquals(a, b) && !(a is Array && b is Array))
                problems.Add($"{path}: a read-only {type.Name} was copied instead of shared");
            return;
        }
        if (Records.Contains(type) && ReferenceEquals(a, b))
            return;
        if (ReferenceEquals(a, b))
        {
            problems.Add($"{path}: the same mutable {type.Name} in the original and the copy");
            return;
        }
        bool seenA = forward.TryGetValue(a, out var mappedB), seenB = backward.TryGetValue(b, out var mappedA);
        if (seenA || seenB)
        {
            if (!ReferenceEquals(mappedB, b) || !ReferenceEquals(mappedA, a))
                problems.Add($"{path}: the copy does not share this {type.Name} the way the original does");
            return;
        }
        forward.Add(a, b);
        backward.Add(b, a);
        switch (a)
        {
            case Array x:
                {
                    var y = (Array)b;
                    if (x.Length != y.Length)
                        problems.Add($"{path}: length {x.Length} in the original, {y.Length} in the copy");
                    else
                        for (int i = 0; i < x.Length; i++)
                            Walk(x.GetValue(i), y.GetValue(i), $"{path}[{i}]", forward, backward, problems);
                    return;
                }
            case IDictionary x:
                {
                    var y = (IDictionary)b;
                    if (x.Count != y.Count)
                    {
                        problems.Add($"{path}: {x.Count} entries in the original, {y.Count} in the copy");
                        return;
                    }
                    var ey = y.GetEnumerator();
                    int i = 0;
                    foreach (DictionaryEntry e in x)
                    {
                        ey.MoveNext();
                        Walk(e.Key, ey.Entry.Key, $"{path}.key[{i}]", forward, backward, problems);
                        Walk(e.Value, ey.Entry.Value, $"{path}[{i}]", forward, backward, problems);
                        i++;
                    }
                    return;
                }
            case IList x:
                {
                    var y = (IList)b;
                    if (x.Count != y.Count)
                        problems.Add($"{path}: {x.Count} items in the original, {y.Count} in the copy");
                    else
                        for (int i = 0; i < x.Count; i++)
                            Walk(x[i], y[i], $"{path}[{i}]", forward, backward, problems);
                    return;
                }
            case HashSet<string> x:
                {
                    // Strings are immutable: a set of them is equal when it holds the same names the same way.
                    var y = (HashSet<string>)b;
                    if (!x.SetEquals(y) || x.Count != y.Count || !Equals(x.Comparer, y.Comparer))
                        problems.Add($"{path}: [{string.Join(", ", x)}] in the original, [{string.Join(", ", y)}] in the copy");
                    return;
                }
            case IEnumerable when type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true:
                problems.Add($"{path}: a {type.Name} (the comparison walks arrays, lists, dictionaries and sets of strings only)");
                return;
        }
        Fields(a, b, type, path, forward, backward, problems);
    }

    private static void Fields(object a, object b, Type type, string path, Dictionary<object, object> forward, Dictionary<object, object> backward, List<string> problems)
    {
        for (var t = type; t is not null && t != typeof(object) && t != typeof(ValueType); t = t.BaseType)
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                string name = f.Name.StartsWith('<') ? f.Name[1..f.Name.IndexOf('>', StringComparison.Ordinal)] : f.Name;
                var fa = f.GetValue(a);
                var fb = f.GetValue(b);
                if (SharedFields.Contains($"{t.Name}.{name}"))
                {
                    if (!ReferenceEquals(fa, fb))
                        problems.Add($"{path}.{name}: read-only, shared by design, but copied");
                    continue;
                }
                Walk(fa, fb, $"{path}.{name}", forward, backward, problems);
            }
    }

    private static string Show(object? o) => o switch
    {
        null => "null",
        ulong u => $"0x{u:x}",
        _ => o.ToString() ?? o.GetType().Name,
    };
}
