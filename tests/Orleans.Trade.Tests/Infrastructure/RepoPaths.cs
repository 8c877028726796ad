namespace Orleans.Trade.Tests.Infrastructure;

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

    /// <summary>The silo built alongside the tests (same configuration).</summary>
    public static string SiloDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<Configuration>/net10.0
            var path = Path.Combine(Root, "silo", "bin", configuration, "net10.0", "Orleans.Trade.Silo.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the silo first.", path);
        }
    }
}
