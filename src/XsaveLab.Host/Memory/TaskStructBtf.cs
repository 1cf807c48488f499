using XsaveLab.Arch.Input;
using XsaveLab.Kernel.Memory;

namespace XsaveLab.Host.Memory;

/// <summary>The struct sizes of a kernel build read from its BTF: <c>struct task_struct</c>, <c>struct fpu</c>,
/// <c>union fpregs_state</c>, and whether <c>struct thread_struct</c> still holds <c>struct fpu</c> (before
/// 81106b7e0b13) or struct fpu follows the task (6.16+).</summary>
public static class TaskStructBtf
{
    /// <summary>The running kernel's BTF (CONFIG_DEBUG_INFO_BTF).</summary>
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    /// <summary>Far above a vmlinux BTF (about 5 MiB for a distribution kernel).</summary>
    public static readonly TextFileLimits Limits = new("a BTF file", 256 << 20);

    /// <summary>Reads and parses <paramref name="path"/>.</summary>
    /// <exception cref="BtfFormatException">The file cannot be read, is not BTF, or lacks one of the structs.</exception>
    public static TaskStructSizes Read(string path)
    {
        if (!BoundedTextFile.TryReadBytes(path, Limits, out var bytes, out var error))
            throw new BtfFormatException(path, -1, error.Message);
        return FromBytes(bytes, path);
    }

    /// <summary>The sizes in a BTF blob.</summary>
    /// <exception cref="BtfFormatException">Not BTF, or a struct is missing, ambiguous or of an impossible size.</exception>
    public static TaskStructSizes FromBytes(byte[] bytes, string file)
    {
        var btf = BtfTypes.Parse(bytes, file);
        int task = One(btf, BtfTypes.KindStruct, "task_struct", file);
        int fpu = One(btf, BtfTypes.KindStruct, "fpu", file);
        int regs = One(btf, BtfTypes.KindUnion, "fpregs_state", file);
        int thread = One(btf, BtfTypes.KindStruct, "thread_struct", file);
        bool embedded = false;
        foreach (var (name, type) in btf.Members(thread))
            if (name == "fpu" && btf.Resolve(type) == fpu)
                embedded = true;
        int taskSize = Size(btf, task, "task_struct", file), fpuSize = Size(btf, fpu, "fpu", file), regsSize = Size(btf, regs, "fpregs_state", file);
        if (fpuSize <= regsSize)
            throw new BtfFormatException(file, -1, $"struct fpu ({fpuSize} bytes) is not larger than the union fpregs_state ({regsSize} bytes) it holds");
        if (embedded && taskSize <= fpuSize)
            throw new BtfFormatException(file, -1, $"struct task_struct ({taskSize} bytes) is not larger than the struct fpu ({fpuSize} bytes) it holds");
        string layout = embedded ? "struct fpu in thread_struct" : "struct fpu after task_struct";
        return new TaskStructSizes(taskSize, fpuSize, regsSize, !embedded, $"{file} (BTF, {layout})");
    }

    private static int One(BtfTypes btf, int kind, string name, string file)
    {
        int found = 0;
        foreach (int id in btf.Named(kind, name))
        {
            if (found != 0 && btf.SizeOrType(id) != btf.SizeOrType(found))
                throw new BtfFormatException(file, -1, $"two {Word(kind)} {name} of different sizes ({btf.SizeOrType(found)} and {btf.SizeOrType(id)} bytes)");
            found = found == 0 ? id : found;
        }
        return found != 0 ? found : throw new BtfFormatException(file, -1, $"no {Word(kind)} {name} among its {btf.Count} types");
    }

    private static int Size(BtfTypes btf, int id, string name, string file)
    {
        long size = btf.SizeOrType(id);
        return size is >= 1 and <= TaskStructSizes.MaxStructBytes ? (int)size
            : throw new BtfFormatException(file, -1, $"{name}: size {size} is outside 1..{TaskStructSizes.MaxStructBytes}");
    }

    private static string Word(int kind) => kind == BtfTypes.KindUnion ? "union" : "struct";
}
