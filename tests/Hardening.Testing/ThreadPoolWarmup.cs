using System.Runtime.CompilerServices;

namespace Hardening.Testing;

/// <summary>
/// Raises the thread pool's minimum when the harness loads. The xunit runner holds pool threads in blocking waits
/// while tests start, and a 2-core machine begins with 2 pool threads: an async continuation could then wait for the
/// pool's starvation injection (about one thread per 500 ms), which showed up as 0.7-1 s stalls of single Redis
/// commands in the first second of a test process (gone with this minimum, 0 of 6 runs against 3 of 4). Tests measure
/// the code, not the runner's start-up, so the harness removes that artefact; the packages themselves never block.
/// </summary>
internal static class ThreadPoolWarmup
{
#pragma warning disable CA2255 // a test harness, loaded only by test processes: running first is the point
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        ThreadPool.GetMinThreads(out var worker, out var io);
        var floor = Math.Max(16, Environment.ProcessorCount * 4);
        ThreadPool.SetMinThreads(Math.Max(worker, floor), Math.Max(io, floor));
    }
}
