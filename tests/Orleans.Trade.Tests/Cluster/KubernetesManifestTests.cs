using System.Globalization;
using System.Text.RegularExpressions;
using Orleans.Trade.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Orleans.Trade.Tests.Cluster;

/// <summary>
/// deploy/k8s, read as Kubernetes would: every document well-formed, the probes on the port the container exposes, settings
/// the silo actually reads, selectors that select, limits within bounds, and a kustomization that applies every file.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private const long MaxMemoryLimitBytes = 2L * 1024 * 1024 * 1024;
    private static readonly string ManifestDir = Path.Combine(RepoPaths.Root, "deploy", "k8s");

    /// <summary>Set by Kubernetes or read by the .NET host itself rather than by our configuration code.</summary>
    private static readonly HashSet<string> PlatformVariables = ["POD_NAME", "POD_NAMESPACE", "POD_IP", "ASPNETCORE_URLS"];

    private static readonly Lazy<IReadOnlyList<Manifest>> All = new(Load);

    [Fact]
    public void Every_document_has_api_version_kind_and_name()
    {
        Assert.NotEmpty(All.Value);
        foreach (var manifest in All.Value)
        {
            var where = $"{manifest.File} document {manifest.Index}";
            Assert.False(string.IsNullOrWhiteSpace(manifest.Root.Scalar("apiVersion")), $"{where}: apiVersion");
            Assert.False(string.IsNullOrWhiteSpace(manifest.Kind), $"{where}: kind");
            if (manifest.Kind != "Kustomization")
            {
                Assert.False(string.IsNullOrWhiteSpace(manifest.Name), $"{where}: metadata.name");
            }
        }
    }

    [Fact]
    public void Kustomization_lists_every_manifest_except_the_secret_template()
    {
        var listed = Single("Kustomization").Root.Sequence("resources").Select(n => ((YamlScalarNode)n).Value!).ToHashSet();
        var files = Directory.GetFiles(ManifestDir, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").ToHashSet();

        // Templates are applied by hand once: in the kustomization they would overwrite real secrets with placeholders.
        var templates = files.Where(f => f!.EndsWith(".example.yaml", StringComparison.Ordinal)).ToArray();
        Assert.Equal(files.Except(templates).Order(), listed.Order());
        Assert.Contains("secret.example.yaml", templates);
    }

    [Fact]
    public void Deployment_probes_ask_the_http_port_the_container_exposes()
    {
        var container = SiloContainer();
        var ports = container.Sequence("ports").Cast<YamlMappingNode>().ToDictionary(p => p.Scalar("name")!, p => p.Scalar("containerPort")!);
        Assert.Equal(["gateway", "http", "metrics", "silo"], ports.Keys.Order());

        foreach (var (probe, path) in new[] { ("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live"), ("startupProbe", "/health/live") })
        {
            var httpGet = container.Map(probe).Map("httpGet");
            Assert.Equal(path, httpGet.Scalar("path"));
            var port = httpGet.Scalar("port");
            Assert.True(port == "http" || port == ports["http"], $"{probe} asks port {port}, not the http port");
        }
        Assert.Equal($"http://0.0.0.0:{ports["http"]}", ConfigMapData()["ASPNETCORE_URLS"]);
        Assert.Equal(ports["silo"], ConfigMapData()["Orleans__SiloPort"]);
        Assert.Equal(ports["gateway"], ConfigMapData()["Orleans__GatewayPort"]);
        // /metrics on a port of its own, the one Prometheus is told to scrape (and no Service exposes, below).
        Assert.Equal(ports["metrics"], ConfigMapData()["Metrics__Port"]);
        Assert.Equal(ports["metrics"], Single("Deployment").Root.Map("spec").Map("template").Map("metadata").Map("annotations").Scalar("prometheus.io/port"));
    }

    [Fact]
    public void Deployment_runs_three_non_root_silos_within_two_gigabytes_each()
    {
        var deployment = Single("Deployment").Root;
        var pod = deployment.Map("spec").Map("template").Map("spec");
        var container = SiloContainer();

        Assert.Equal("3", deployment.Map("spec").Scalar("replicas"));
        var memoryLimit = ParseQuantity(container.Map("resources").Map("limits").Scalar("memory")!);
        Assert.InRange(memoryLimit, 1, MaxMemoryLimitBytes);
        Assert.NotNull(container.Map("resources").Map("requests").Scalar("memory"));
        Assert.Equal("true", pod.Map("securityContext").Scalar("runAsNonRoot"));
        Assert.NotEqual("0", pod.Map("securityContext").Scalar("runAsUser"));
        Assert.Equal("true", container.Map("securityContext").Scalar("readOnlyRootFilesystem"));
        Assert.Equal("false", container.Map("securityContext").Scalar("allowPrivilegeEscalation"));
        var tmp = container.Sequence("volumeMounts").Cast<YamlMappingNode>().Single(m => m.Scalar("mountPath") == "/tmp").Scalar("name");
        Assert.Contains(pod.Sequence("volumes").Cast<YamlMappingNode>(), v => v.Scalar("name") == tmp && v.Children.ContainsKey("emptyDir"));
    }

    [Fact]
    public void Grace_period_covers_the_pre_stop_pause_and_the_silo_shutdown()
    {
        var pod = Single("Deployment").Root.Map("spec").Map("template").Map("spec");
        var preStop = SiloContainer().Map("lifecycle").Map("preStop").Map("exec").Sequence("command").Select(n => ((YamlScalarNode)n).Value).ToArray();
        Assert.Equal("sleep", preStop[0]);
        var pauseSeconds = int.Parse(preStop[1]!, CultureInfo.InvariantCulture);
        var shutdownSeconds = int.Parse(ConfigMapData()["Shutdown__TimeoutSeconds"], CultureInfo.InvariantCulture);
        var graceSeconds = int.Parse(pod.Scalar("terminationGracePeriodSeconds")!, CultureInfo.InvariantCulture);

        Assert.InRange(pauseSeconds, 1, 30);
        Assert.True(graceSeconds > pauseSeconds + shutdownSeconds, $"grace {graceSeconds} s ≤ preStop {pauseSeconds} s + shutdown {shutdownSeconds} s");
    }

    [Fact]
    public void Service_and_disruption_budget_select_the_silo_pods()
    {
        var podLabels = Labels(Single("Deployment").Root.Map("spec").Map("template").Map("metadata").Map("labels"));
        var deploymentSelector = Labels(Single("Deployment").Root.Map("spec").Map("selector").Map("matchLabels"));
        var serviceSelector = Labels(Single("Service").Root.Map("spec").Map("selector"));
        var budgetSelector = Labels(Single("PodDisruptionBudget").Root.Map("spec").Map("selector").Map("matchLabels"));

        foreach (var selector in new[] { deploymentSelector, serviceSelector, budgetSelector })
        {
            Assert.NotEmpty(selector);
            Assert.All(selector, label => Assert.Equal(label.Value, podLabels.GetValueOrDefault(label.Key)));
        }
        var containerPorts = SiloContainer().Sequence("ports").Cast<YamlMappingNode>().Select(p => p.Scalar("name")).ToHashSet();
        Assert.All(Single("Service").Root.Map("spec").Sequence("ports").Cast<YamlMappingNode>(), p =>
        {
            Assert.Contains(p.Scalar("targetPort"), containerPorts);
            // The metrics port tells its reader the platform's orders and GMV: Prometheus scrapes the pods, clients never reach it.
            Assert.NotEqual("metrics", p.Scalar("targetPort"));
        });
    }

    [Fact]
    public void Kubernetes_hosting_gets_the_pod_identity_rights_and_cluster_labels()
    {
        var container = SiloContainer();
        var fieldRefs = container.Sequence("env").Cast<YamlMappingNode>()
            .Where(e => e.Children.ContainsKey("valueFrom"))
            .ToDictionary(e => e.Scalar("name")!, e => e.Map("valueFrom").Map("fieldRef").Scalar("fieldPath"));
        Assert.Equal("metadata.name", fieldRefs["POD_NAME"]);
        Assert.Equal("metadata.namespace", fieldRefs["POD_NAMESPACE"]);
        Assert.Equal("status.podIP", fieldRefs["POD_IP"]);

        var config = ConfigMapData();
        Assert.Equal("true", config["Orleans__Kubernetes"]);
        Assert.Equal("postgres", config["Storage__Provider"]);
        var podLabels = Labels(Single("Deployment").Root.Map("spec").Map("template").Map("metadata").Map("labels"));
        Assert.Equal(config["Orleans__ClusterId"], podLabels["orleans/clusterId"]);
        Assert.Equal(config["Orleans__ServiceId"], podLabels["orleans/serviceId"]);

        var pod = Single("Deployment").Root.Map("spec").Map("template").Map("spec");
        var account = pod.Scalar("serviceAccountName");
        Assert.Equal(account, Single("ServiceAccount").Name);
        var role = Single("Role");
        var verbs = role.Root.Sequence("rules").Cast<YamlMappingNode>()
            .Where(r => r.Sequence("resources").Any(n => ((YamlScalarNode)n).Value == "pods"))
            .SelectMany(r => r.Sequence("verbs").Select(n => ((YamlScalarNode)n).Value)).ToHashSet();
        Assert.Superset(new HashSet<string?> { "get", "list", "watch", "patch" }, verbs);
        var binding = Single("RoleBinding").Root;
        Assert.Equal(role.Name, binding.Map("roleRef").Scalar("name"));
        Assert.Contains(binding.Sequence("subjects").Cast<YamlMappingNode>(), s => s.Scalar("kind") == "ServiceAccount" && s.Scalar("name") == account);
    }

    [Fact]
    public void Schema_is_migrated_by_an_init_container_of_the_same_image_and_settings()
    {
        var pod = Single("Deployment").Root.Map("spec").Map("template").Map("spec");
        var migrate = pod.Sequence("initContainers").Cast<YamlMappingNode>().Single();
        var silo = SiloContainer();

        Assert.Equal(["migrate"], migrate.Sequence("args").Select(n => ((YamlScalarNode)n).Value));
        Assert.Equal(silo.Scalar("image"), migrate.Scalar("image"));
        Assert.Equal(EnvSources(silo), EnvSources(migrate));
        Assert.Equal("true", migrate.Map("securityContext").Scalar("readOnlyRootFilesystem"));
        Assert.InRange(ParseQuantity(migrate.Map("resources").Map("limits").Scalar("memory")!), 1, MaxMemoryLimitBytes);
    }

    [Fact]
    public void Every_setting_names_configuration_the_silo_reads()
    {
        var container = SiloContainer();
        var secret = Single("Secret").Root.Map("stringData");
        var names = ConfigMapData().Keys
            .Concat(secret.Children.Keys.Select(k => ((YamlScalarNode)k).Value!))
            .Concat(container.Sequence("env").Cast<YamlMappingNode>().Select(e => e.Scalar("name")!))
            .ToArray();
        Assert.Contains("ConnectionStrings__Trade", names);
        Assert.Contains("Security__SecretsKey", names);
        Assert.Contains("Payments__CardFingerprintKey", names);

        var sources = string.Join('\n', new[] { "silo", "api", "grains", "grain-interfaces" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Select(File.ReadAllText));
        foreach (var name in names.Where(n => !PlatformVariables.Contains(n) && !n.StartsWith("Logging__", StringComparison.Ordinal)))
        {
            Assert.True(IsReadBySilo(name.Split("__"), sources), $"{name}: no configuration key {name.Replace("__", ":")} is read by the silo");
        }
        // The envFrom sources exist under the names the containers use.
        Assert.Equal([("configMapRef", Single("ConfigMap").Name), ("secretRef", Single("Secret").Name)], EnvSources(container));
    }

    [Fact]
    public void The_image_restores_for_the_ready_to_run_publish_it_runs_without_a_restore()
    {
        // Restored without ReadyToRun, the publish (--no-restore, ReadyToRun) found no runtime packs on a clean machine: no image.
        var dockerfile = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "docker", "Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
        var runs = dockerfile.Split('\n').Where(l => l.TrimStart().StartsWith("RUN dotnet ", StringComparison.Ordinal)).ToArray();
        var restore = Assert.Single(runs, l => l.Contains("dotnet restore", StringComparison.Ordinal));
        var publish = Assert.Single(runs, l => l.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.Contains("--no-restore", publish);
        foreach (var property in Regex.Matches(publish, @"-p:(\w+)=(\S+)").Select(m => m.Value))
        {
            Assert.True(restore.Contains(property, StringComparison.Ordinal), $"the restore lacks {property}, which the publish sets");
        }
        Assert.Contains("-p:PublishReadyToRun=true", restore);
    }

    [Fact]
    public void Secret_template_holds_placeholders_only()
    {
        var secret = Single("Secret");
        Assert.Equal("secret.example.yaml", secret.File);
        Assert.All(secret.Root.Map("stringData").Children.Values,
            v => Assert.Contains("CHANGE-ME", ((YamlScalarNode)v).Value, StringComparison.Ordinal));
    }

    /// <summary>The key as a literal ("Storage:Provider"), or a section literal plus a member ("Orleans" + "SiloPort", or
    /// SandboxPspOptions.Section = "Payments:Sandbox" + its ApiKey property), or a connection string by name.</summary>
    private static bool IsReadBySilo(string[] segments, string sources)
    {
        if (segments is ["ConnectionStrings", var connection])
        {
            return sources.Contains($"GetConnectionString(\"{connection}\")", StringComparison.Ordinal);
        }
        if (sources.Contains($"\"{string.Join(':', segments)}\"", StringComparison.Ordinal))
        {
            return true;
        }
        for (var split = 1; split < segments.Length; split++)
        {
            var section = string.Join(':', segments[..split]);
            var member = segments[split];
            if (sources.Contains($"\"{section}\"", StringComparison.Ordinal)
                && (sources.Contains($"\"{member}\"", StringComparison.Ordinal) || Regex.IsMatch(sources, $@"\b{Regex.Escape(member)} \{{ get;")))
            {
                return true;
            }
        }
        return false;
    }

    private static (string, string?)[] EnvSources(YamlMappingNode container) =>
        container.Sequence("envFrom").Cast<YamlMappingNode>()
            .Select(e => { var (kind, reference) = e.Children.Single(); return (((YamlScalarNode)kind).Value!, ((YamlMappingNode)reference).Scalar("name")); })
            .ToArray();

    private static YamlMappingNode SiloContainer() =>
        Single("Deployment").Root.Map("spec").Map("template").Map("spec").Sequence("containers").Cast<YamlMappingNode>().Single(c => c.Scalar("name") == "silo");

    private static Dictionary<string, string> ConfigMapData() => Labels(Single("ConfigMap").Root.Map("data"));

    private static Dictionary<string, string> Labels(YamlMappingNode map) =>
        map.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value!);

    private static Manifest Single(string kind) => Assert.Single(All.Value, m => m.Kind == kind);

    /// <summary>Kubernetes quantities: plain bytes, binary (Ki, Mi, Gi) or decimal (k, M, G) suffixes.</summary>
    private static long ParseQuantity(string quantity)
    {
        var match = QuantityPattern().Match(quantity);
        Assert.True(match.Success, $"not a memory quantity: {quantity}");
        var factor = match.Groups[2].Value switch
        {
            "" => 1L,
            "k" => 1000L, "M" => 1000L * 1000, "G" => 1000L * 1000 * 1000,
            "Ki" => 1024L, "Mi" => 1024L * 1024, "Gi" => 1024L * 1024 * 1024,
            var other => throw new InvalidOperationException($"unexpected suffix {other}"),
        };
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * factor;
    }

    [GeneratedRegex(@"^(\d+)(|k|M|G|Ki|Mi|Gi)$")]
    private static partial Regex QuantityPattern();

    private static IReadOnlyList<Manifest> Load()
    {
        var manifests = new List<Manifest>();
        foreach (var path in Directory.GetFiles(ManifestDir, "*.yaml").Order())
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(path))
            {
                stream.Load(reader);
            }
            for (var i = 0; i < stream.Documents.Count; i++)
            {
                var root = Assert.IsType<YamlMappingNode>(stream.Documents[i].RootNode);
                manifests.Add(new Manifest(Path.GetFileName(path), i, root));
            }
        }
        return manifests;
    }

    private sealed record Manifest(string File, int Index, YamlMappingNode Root)
    {
        public string? Kind => Root.Scalar("kind");
        public string? Name => Root.Children.ContainsKey("metadata") ? Root.Map("metadata").Scalar("name") : null;
    }
}

internal static class YamlNodes
{
    public static string? Scalar(this YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? (node as YamlScalarNode)?.Value : null;

    public static YamlMappingNode Map(this YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlMappingNode child
            ? child
            : throw new Xunit.Sdk.XunitException($"missing mapping '{key}'");

    public static IEnumerable<YamlNode> Sequence(this YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlSequenceNode sequence
            ? sequence.Children
            : throw new Xunit.Sdk.XunitException($"missing list '{key}'");
}
