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

    /// <summary>The benchmark's own build configuration (Release or Debug), from the folder it runs in.</summary>
    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The silo built in the benchmark's own configuration (bin/&lt;Configuration&gt;/net10.0).</summary>
    public static string SiloDll(string? overridePath)
    {
        var path = overridePath ?? Path.Combine(Root, "silo", "bin", Configuration, "net10.0", "Orleans.Trade.Silo.dll");
        return File.Exists(path) ? path : throw new ArgumentException($"No silo at {path}: build the solution in {Configuration} first, or pass --silo-dll.");
    }

    /// <summary>
    /// The silo to run: <paramref name="overridePath"/> if given; otherwise the solution's build, as built (<paramref name="build"/>
    /// "plain") or published with ReadyToRun as the Docker image ships it ("r2r", into a folder under the temp directory; published
    /// again only when the build is newer than that folder's copy). ReadyToRun code needs no JIT before its first call, which
    /// matters where a sale starts on a fresh silo (a restart, a new pod) and on the paid path's broad code.
    /// </summary>
    public static async Task<string> SiloDllAsync(string? overridePath, string build)
    {
        var built = SiloDll(overridePath);
        if (overridePath is not null || build == "plain")
        {
            return built;
        }
        if (build != "r2r")
        {
            throw new ArgumentException($"--silo-build is r2r (the default) or plain, not '{build}'.");
        }
        var folder = Path.Combine(Path.GetTempPath(), "orleans-trade-bench-silo-r2r");
        var published = Path.Combine(folder, "Orleans.Trade.Silo.dll");
        var builtAt = Directory.GetFiles(Path.GetDirectoryName(built)!, "Orleans.Trade.*.dll").Max(File.GetLastWriteTimeUtc);
        if (File.Exists(published) && File.GetLastWriteTimeUtc(published) >= builtAt)
        {
            return published;
        }
        var runtime = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
        Console.Error.WriteLine($"bench: publishing the silo with ReadyToRun ({Configuration}, {runtime}) to {folder}");
        var publish = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dotnet",
            ["publish", Path.Combine(Root, "silo", "Orleans.Trade.Silo.csproj"), "-c", Configuration, "-r", runtime, "--self-contained", "false",
                "-p:PublishReadyToRun=true", "-o", folder, "-v", "quiet", "-nologo"])
        {
            RedirectStandardOutput = true,
        })!;
        var output = await publish.StandardOutput.ReadToEndAsync();
        await publish.WaitForExitAsync();
        if (publish.ExitCode != 0 || !File.Exists(published))
        {
            throw new InvalidOperationException($"Publishing the silo with ReadyToRun failed (exit {publish.ExitCode}); pass --silo-build plain to run the build as it is.\n{output}");
        }
        File.SetLastWriteTimeUtc(published, DateTime.UtcNow);
        return published;
    }
}
