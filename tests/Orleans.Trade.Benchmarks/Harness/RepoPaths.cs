namespace Orleans.Trade.Benchmarks.Harness;

public static class RepoPaths
{
    /// <summary>The folder holding Orleans.Trade.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.Trade.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Cannot find Orleans.Trade.sln above " + AppContext.BaseDirectory);
    }

    /// <summary>The silo built in the benchmark's own configuration (bin/&lt;Configuration&gt;/net10.0).</summary>
    public static string SiloDll(string? overridePath)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var path = overridePath ?? Path.Combine(Root, "silo", "bin", configuration, "net10.0", "Orleans.Trade.Silo.dll");
        return File.Exists(path) ? path : throw new ArgumentException($"No silo at {path}: build the solution in {configuration} first, or pass --silo-dll.");
    }
}
