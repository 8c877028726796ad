using System.Diagnostics;

namespace Orleans.Trade.Tests.Infrastructure;

/// <summary>Runs a command as an operator would (a script, or the silo with a verb) and returns what it printed.</summary>
public static class CommandRunner
{
    /// <summary>
    /// Fails the test, with the command's standard error, unless it exits 0 within <paramref name="timeout"/>; a command still
    /// running then is killed.
    /// </summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string> env, TimeSpan timeout)
    {
        var (exitCode, stdout, stderr) = await RunToExitAsync(fileName, args, env, timeout);
        Assert.True(exitCode == 0, $"{fileName} {string.Join(' ', args)} exited {exitCode}: {stderr}");
        return stdout;
    }

    /// <summary>Runs a command that may fail, as an operator would: its exit code and what it printed, within <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(string fileName, IEnumerable<string> args,
        IReadOnlyDictionary<string, string> env, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // Not left running past the test (a silo waiting for a lock would go on polling the test's database).
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} {string.Join(' ', start.ArgumentList)} did not exit within {timeout}: {await stdout}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
