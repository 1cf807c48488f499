namespace XsaveLab.Sim.Measure;

/// <summary>Vector register state held by both ends of the ping-pong while they switch.</summary>
public enum VectorState
{
    /// <summary>Whatever the runtime left in the registers (no XSAVE needed).</summary>
    AsIs,

    /// <summary>AVX and AVX-512 components put in their initial configuration (XINUSE bits clear), so the
    /// kernel's XSAVES skips them through the init optimisation.</summary>
    Init,

    /// <summary>AVX and AVX-512 components loaded with non-zero data (XINUSE bits set): every switch saves
    /// and restores them.</summary>
    Wide,
}

/// <summary>How the two sides of the ping-pong are created (will-it-scale builds <c>context_switch1</c> both ways).</summary>
public enum PingPongMode
{
    /// <summary>Two threads of this process (<c>context_switch1_threads</c>): no address-space switch.</summary>
    Threads,

    /// <summary>This process and a spawned child (<c>context_switch1_processes</c>): every switch changes mm.</summary>
    Processes,
}
