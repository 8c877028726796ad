using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Orleans.Trade.Risk;

/// <summary>Scores payments inline (R-PAY-5). Thread-safe; a singleton per silo.</summary>
public interface IRiskScorer
{
    /// <summary>The version of the model new scores use.</summary>
    string ModelVersion { get; }

    /// <summary>Computes the payment's features from its histories as they are before it (record it after), then scores them.</summary>
    RiskScore Score(RiskEvent payment, RiskHistories histories);

    /// <summary>Scores a feature vector built by <see cref="RiskFeatures.Compute(RiskEvent, RiskHistories, CategoryRisk)"/>.</summary>
    RiskScore Score(ReadOnlySpan<float> features);
}

/// <summary>
/// The model file at <see cref="RiskOptions.ModelPath"/> (default: the shipped model), reloaded without a restart when the
/// file changes or <see cref="Reload"/> is called. A score reads the current model once, so scores already running finish
/// on the model they started with; a file that fails to load leaves the current model in place.
/// </summary>
public sealed class RiskScorer : IRiskScorer, IDisposable
{
    /// <summary>Changes arriving within this of each other are one reload (an editor or copy writes in several steps).</summary>
    public static readonly TimeSpan ReloadDebounce = TimeSpan.FromMilliseconds(300);

    private readonly string _path;
    private readonly RiskThresholds _thresholds;
    private readonly CategoryRisk _categoryRisk;
    private readonly ILogger _logger;
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer _debounce;
    private readonly Lock _reloading = new();
    private volatile RiskModel _current;

    public RiskScorer(IOptions<RiskOptions> options, ILogger<RiskScorer>? logger = null)
    {
        var settings = options.Value;
        _path = settings.ResolvedModelPath;
        _thresholds = settings.Thresholds;
        _categoryRisk = CategoryRisk.WithOverrides(settings.CategoryRisk);
        _logger = logger ?? NullLogger<RiskScorer>.Instance;
        _current = RiskModel.Load(_path);
        _logger.LogInformation("Risk model {Version} ({Trainer}) loaded from {Path}", _current.Version, _current.Metadata.Trainer, _path);
        _debounce = new Timer(_ => TryReload(), null, Timeout.Infinite, Timeout.Infinite);
        if (settings.WatchModelFile)
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _watcher.Changed += (_, _) => ScheduleReload();
            _watcher.Created += (_, _) => ScheduleReload();
            _watcher.Renamed += (_, _) => ScheduleReload();
            _watcher.EnableRaisingEvents = true;
        }
    }

    public string ModelVersion => _current.Version;

    /// <summary>The model new scores use.</summary>
    public RiskModel Current => _current;

    public RiskThresholds Thresholds => _thresholds;

    public CategoryRisk CategoryRisk => _categoryRisk;

    public RiskScore Score(RiskEvent payment, RiskHistories histories)
    {
        Span<float> features = stackalloc float[RiskFeatures.Count];
        RiskFeatures.Compute(payment, histories, _categoryRisk, features);
        return Score(features);
    }

    public RiskScore Score(ReadOnlySpan<float> features) => _current.Score(features, _thresholds);

    /// <summary>Loads the model file again and switches to it. Throws (keeping the current model) when it cannot be loaded.</summary>
    public string Reload()
    {
        lock (_reloading)
        {
            var loaded = RiskModel.Load(_path);
            var previous = _current;
            _current = loaded;
            if (previous.Version != loaded.Version)
            {
                _logger.LogInformation("Risk model {Previous} replaced by {Version} ({Trainer})", previous.Version, loaded.Version, loaded.Metadata.Trainer);
            }
            return loaded.Version;
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce.Dispose();
    }

    private void ScheduleReload() => _debounce.Change(ReloadDebounce, Timeout.InfiniteTimeSpan);

    private void TryReload()
    {
        try
        {
            Reload();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or FormatException or InvalidOperationException or System.Text.Json.JsonException)
        {
            _logger.LogWarning(e, "Risk model at {Path} could not be loaded; still scoring with {Version}", _path, _current.Version);
        }
    }
}
