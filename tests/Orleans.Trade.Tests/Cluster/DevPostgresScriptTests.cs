using Npgsql;
using Orleans.Trade.Tests.Infrastructure;

namespace Orleans.Trade.Tests.Cluster;

/// <summary>deploy/dev-postgres.sh as a developer or the benchmark harness runs it, with extra server settings.</summary>
public sealed class DevPostgresScriptTests
{
    [Fact]
    public async Task Extra_settings_from_PGDEV_CONF_apply_at_start_and_durability_stays_on()
    {
        var dir = Path.Combine(Path.GetTempPath(), "orleans-trade-pgconf-" + Guid.NewGuid().ToString("N")[..8]);
        var script = Path.Combine(RepoPaths.Root, "deploy", "dev-postgres.sh");
        var env = new Dictionary<string, string> { ["PGDEV_DIR"] = dir, ["PGDEV_CONF"] = "work_mem = 7MB\nmax_wal_size = 2GB" };
        try
        {
            var output = await CommandRunner.RunAsync("bash", [script, "start"], env, TimeSpan.FromMinutes(2));
            var connectionString = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            async Task<string> Show(string name)
            {
                await using var command = new NpgsqlCommand($"SHOW {name}", connection);
                return (string)(await command.ExecuteScalarAsync())!;
            }

            Assert.Equal("7MB", await Show("work_mem"));
            Assert.Equal("2GB", await Show("max_wal_size"));
            Assert.Equal("on", await Show("fsync"));
            Assert.Equal("on", await Show("synchronous_commit"));
        }
        finally
        {
            await CommandRunner.RunAsync("bash", [script, "destroy"], new Dictionary<string, string> { ["PGDEV_DIR"] = dir }, TimeSpan.FromMinutes(1));
        }
    }

    [Fact]
    public async Task A_running_server_is_found_on_its_own_port_when_the_configured_one_went_astray()
    {
        // On a loaded machine a start outlasted pg_ctl's wait, the retry wrote another port into the configuration, and every
        // later start then waited two minutes on that port for a server listening on the first ("running but not ready").
        var dir = Path.Combine(Path.GetTempPath(), "orleans-trade-pgport-" + Guid.NewGuid().ToString("N")[..8]);
        var script = Path.Combine(RepoPaths.Root, "deploy", "dev-postgres.sh");
        var env = new Dictionary<string, string> { ["PGDEV_DIR"] = dir };
        try
        {
            var first = (await CommandRunner.RunAsync("bash", [script, "start"], env, TimeSpan.FromMinutes(2))).Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
            var port = new NpgsqlConnectionStringBuilder(first).Port;
            var conf = Path.Combine(dir, "data", "dev-postgres.conf");
            await File.WriteAllTextAsync(conf, (await File.ReadAllTextAsync(conf)).Replace($"port = {port}", $"port = {(port == 1 ? 2 : port - 1)}"));

            var again = (await CommandRunner.RunAsync("bash", [script, "start"], env, TimeSpan.FromMinutes(2))).Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();

            Assert.Equal(port, new NpgsqlConnectionStringBuilder(again).Port);
            await using var connection = new NpgsqlConnection(again);
            await connection.OpenAsync();
            var url = (await CommandRunner.RunAsync("bash", [script, "url"], env, TimeSpan.FromMinutes(1))).Trim();
            Assert.Equal(port, new NpgsqlConnectionStringBuilder(url).Port);
        }
        finally
        {
            await CommandRunner.RunAsync("bash", [script, "destroy"], env, TimeSpan.FromMinutes(1));
        }
    }
}
