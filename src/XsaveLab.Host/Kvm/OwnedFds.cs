namespace XsaveLab.Host.Kvm;

/// <summary>The descriptors created through a KVM fd (the VMs of /dev/kvm, the vCPUs of a VM), which it closes
/// before itself when disposed so that disposing the outermost object leaves no descriptor open.</summary>
internal sealed class OwnedFds<T> where T : class, IDisposable
{
    private readonly List<T> _items = [];

    /// <summary>Wraps and keeps the descriptor a creating ioctl returned; a failed ioctl gives its result and no
    /// object.</summary>
    public KvmResult<T> Adopt(KvmResult created, Func<SafeFdHandle, T> wrap)
    {
        if (!created.Ok)
            return new(created.Result, null);
        var item = wrap(new SafeFdHandle(created.Ret));
        _items.Add(item);
        return new(created.Result, item);
    }

    public void Forget(T item) => _items.Remove(item);

    /// <summary>Disposes every object kept; each one forgets itself while this runs, hence the copy.</summary>
    public void DisposeAll()
    {
        foreach (var item in _items.ToArray())
            item.Dispose();
    }
}
