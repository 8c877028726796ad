using System.Globalization;
using System.Runtime.InteropServices;

namespace Orleans.Trade.Benchmarks.Harness;

/// <summary>
/// CPU time spent during a measured window, from <c>/proc</c>: each watched process (a silo), PostgreSQL (every process named
/// <c>postgres</c>, with the time of the backends its postmaster has reaped) and the whole machine (busy time of
/// <c>/proc/stat</c>, steal excluded). Divided by the window's ops it is the cost of one op, a figure that varies far less
/// between runs than the throughput on a shared two-core machine: the tool for A/B comparisons of a change's efficiency.
/// </summary>
public sealed class CpuUse
{
    private const int ScClockTicks = 2; // _SC_CLK_TCK on Linux
    private static readonly double SecondsPerTick = 1.0 / ClockTicksPerSecond();

    private readonly (string Label, int Pid)[] _processes;
    private readonly Dictionary<int, long> _processTicks;
    private readonly long _postgresTicks;
    private readonly long _machineTicks;
    private readonly long _started = Environment.TickCount64;
    private Result? _result;

    private CpuUse((string Label, int Pid)[] processes)
    {
        _processes = processes;
        _processTicks = processes.ToDictionary(p => p.Pid, p => ProcessTicks(p.Pid) ?? 0);
        _postgresTicks = PostgresTicks();
        _machineTicks = MachineBusyTicks();
    }

    /// <summary>Starts measuring now; <paramref name="processes"/> are the silos (label, pid) to report one by one.</summary>
    public static CpuUse Start(params (string Label, int Pid)[] processes) => new(processes);

    /// <summary>Ends the window (the first call; later calls answer the same result).</summary>
    public Result Stop()
    {
        if (_result is not null)
        {
            return _result;
        }
        var wall = (Environment.TickCount64 - _started) / 1000.0;
        // A process gone before the end (a killed silo) counts with what it had used at the start only: a lower bound.
        var processes = _processes.Select(p => (p.Label, Seconds: ((ProcessTicks(p.Pid) ?? _processTicks[p.Pid]) - _processTicks[p.Pid]) * SecondsPerTick)).ToArray();
        _result = new Result(processes, (PostgresTicks() - _postgresTicks) * SecondsPerTick, (MachineBusyTicks() - _machineTicks) * SecondsPerTick, wall);
        return _result;
    }

    /// <summary>CPU seconds of the window: per watched process, PostgreSQL's, the machine's, and the wall-clock seconds.</summary>
    public sealed record Result(IReadOnlyList<(string Label, double Seconds)> Processes, double PostgresSeconds, double MachineSeconds, double WallSeconds)
    {
        /// <summary>
        /// The watched processes' CPU microseconds per op together, or only those labelled <paramref name="label"/> (null without
        /// such a process or an op).
        /// </summary>
        public double? ProcessMicrosPerOp(long ops, string? label = null)
        {
            var watched = Processes.Where(p => label is null || p.Label == label).ToArray();
            return ops > 0 && watched.Length > 0 ? watched.Sum(p => p.Seconds) * 1e6 / ops : null;
        }

        /// <summary>"CPU per op: silo 172 µs, PostgreSQL 98 µs, machine 415 µs (1.93 cores busy of 2)".</summary>
        public string Describe(long ops)
        {
            if (ops <= 0)
            {
                return "CPU per op: no op in the window";
            }
            var c = CultureInfo.InvariantCulture;
            var parts = Processes.Select(p => string.Create(c, $"{p.Label} {p.Seconds * 1e6 / ops:N0} µs"))
                .Append(string.Create(c, $"PostgreSQL {PostgresSeconds * 1e6 / ops:N0} µs"))
                .Append(string.Create(c, $"machine {MachineSeconds * 1e6 / ops:N0} µs"));
            var busy = WallSeconds > 0 ? string.Create(c, $" ({MachineSeconds / WallSeconds:F2} cores busy of {Environment.ProcessorCount})") : "";
            return $"CPU per op: {string.Join(", ", parts)}{busy}";
        }
    }

    /// <summary>utime + stime of the process, or null once it is gone.</summary>
    private static long? ProcessTicks(int pid) => ReadStat($"/proc/{pid}/stat") is { } fields ? fields.UserTicks + fields.SystemTicks : null;

    private static long PostgresTicks()
    {
        long total = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out _)
                || ReadStat(Path.Combine(directory, "stat")) is not { Command: "postgres" } fields)
            {
                continue;
            }
            // The postmaster's children's times count the backends and workers that exited (and that it waited for).
            total += fields.UserTicks + fields.SystemTicks + fields.ChildUserTicks + fields.ChildSystemTicks;
        }
        return total;
    }

    private static long MachineBusyTicks()
    {
        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is inside user already.
        var line = File.ReadLines("/proc/stat").First();
        var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return values[0] + values[1] + values[2] + values[5] + values[6];
    }

    private readonly record struct Stat(string Command, long UserTicks, long SystemTicks, long ChildUserTicks, long ChildSystemTicks);

    private static Stat? ReadStat(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields count from the last ')'.
        var open = text.IndexOf('(');
        var close = text.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }
        var fields = text[(close + 2)..].Split(' ');
        // After the command: state is field 3 of stat(5), so utime (14) is at index 11, stime 12, cutime 13, cstime 14.
        long Field(int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);
        return new Stat(text[(open + 1)..close], Field(11), Field(12), Field(13), Field(14));
    }

    private static long ClockTicksPerSecond()
    {
        try
        {
            var ticks = sysconf(ScClockTicks);
            return ticks > 0 ? ticks : 100;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100; // USER_HZ on every Linux build in use
        }
    }

    [DllImport("libc", SetLastError = false)]
    private static extern long sysconf(int name);
}
